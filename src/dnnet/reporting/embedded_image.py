"""A figure inside the page itself, so that a report copied or mailed alone still shows its figures."""

from __future__ import annotations

import base64
import html
from pathlib import Path


def embedded_img(path: Path, name: str, alt: str) -> str:
    """An <img> whose source is the PNG at `path` as a data URI; `data-file` names the file it was read from."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" data-file="{html.escape(name)}" alt="{html.escape(alt)}">'
