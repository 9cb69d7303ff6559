"""Names for what a command that reads a run writes into it: beside what is there, never over it. The first result is
`anytime.json`, the next `anytime-2.json`, and readers (the report) take the newest."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


def unused_name(folder: Path, stem: str, suffixes: Sequence[str]) -> str:
    """`stem`, or `stem-2`, `stem-3` ...: the first name for which no `folder/<name><suffix>` exists, for every suffix
    ("" for a folder); the files of one result then share a number."""
    folder = Path(folder)
    number = 1
    while True:
        name = stem if number == 1 else f"{stem}-{number}"
        if not any((folder / f"{name}{suffix}").exists() for suffix in suffixes):
            return name
        number += 1


def newest_name(folder: Path, stem: str, suffix: str) -> Path | None:
    """The highest-numbered `folder/<stem>[-N]<suffix>` that exists (what `unused_name` wrote last), or None."""
    pattern = re.compile(rf"{re.escape(stem)}(?:-([0-9]+))?{re.escape(suffix)}")
    found = {}
    for path in Path(folder).glob(f"{stem}*{suffix}"):
        match = pattern.fullmatch(path.name)
        if match:
            found[int(match.group(1) or 1)] = path
    return found[max(found)] if found else None
