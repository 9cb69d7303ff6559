"""Reading a JSON object that dnnet wrote (a run's or a pretrained folder's config.json): a missing, unreadable or
misshapen file is one UserError naming it, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dnnet.errors import MissingFile, UserError


def read_json_object(path: Path, if_missing: str, what: str) -> dict[str, Any]:
    """The JSON object in `path`; MissingFile(`if_missing`) without it, UserError when it is not `what` (an object)."""
    if not path.is_file():
        raise MissingFile(if_missing)
    try:
        values = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON ({error})") from error
    except RecursionError:  # nested deeper than the parser goes: no config dnnet writes
        raise UserError(f"{path} is not a JSON object dnnet reads (nested too deeply)") from None
    if not isinstance(values, dict):
        raise UserError(f"{path} holds a JSON {type(values).__name__}, not {what}")
    return values
