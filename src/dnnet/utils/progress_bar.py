"""A progress bar on stderr for the long steps outside training (evaluating every cell, timing 352 cells, a download,
exporting a bundle's cells), shown only on a terminal: in a log file or a pipe the step stays quiet, as before."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")


def on_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[Item], description: str, total: int | None = None, unit: str = "it",
             unit_scale: bool = False) -> Iterator[Item] | Iterable[Item]:
    """`items`, counted by a tqdm bar that disappears when done; `items` themselves when stderr is not a terminal."""
    if not on_terminal():
        return items
    from tqdm import tqdm  # only when a bar is drawn: importing it costs a command's start-up time otherwise

    return tqdm(items, desc=description, total=total, unit=unit, unit_scale=unit_scale, leave=False, dynamic_ncols=True)
