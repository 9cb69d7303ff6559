"""Names for what a command that reads a run writes into it: beside what is there, never over it. The first result is
`anytime.json`, the next `anytime-2.json`, and readers (the report) take the newest: the highest number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


def numbers_taken(folder: Path, stem: str, suffix: str) -> dict[int, Path]:
    """number -> path of every `folder/<stem>[-N]<suffix>` that exists (`stem` alone is number 1)."""
    pattern = re.compile(rf"{re.escape(stem)}(?:-([0-9]+))?{re.escape(suffix)}")
    taken = {}
    for path in Path(folder).glob(f"{stem}*{suffix}"):
        match = pattern.fullmatch(path.name)
        if match:
            taken[int(match.group(1) or 1)] = path
    return taken


def unused_name(folder: Path, stem: str, suffixes: Sequence[str]) -> str:
    """`stem`, or `stem-N` one past the highest number any of `suffixes` ("" for a folder) holds: the files of one
    result share a number, and a newer result always has a higher one (a gap left by a deleted file is not reused)."""
    highest = max((number for suffix in suffixes for number in numbers_taken(folder, stem, suffix)), default=0)
    return stem if highest == 0 else f"{stem}-{highest + 1}"


def newest_name(folder: Path, stem: str, suffix: str) -> Path | None:
    """The highest-numbered `folder/<stem>[-N]<suffix>` that exists (what `unused_name` wrote last), or None."""
    taken = numbers_taken(folder, stem, suffix)
    return taken[max(taken)] if taken else None
