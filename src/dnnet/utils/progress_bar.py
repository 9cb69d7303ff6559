"""Progress on stderr for the long steps outside training (timing 352 cells, a download, exporting a bundle's cells): a
bar on a terminal; in a log file or a pipe one line when the stage starts and one when it ends, with its time."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")


def on_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[Item], description: str, total: int | None = None, unit: str = "it",
             unit_scale: bool = False) -> Iterator[Item] | Iterable[Item]:
    """`items`, counted by a tqdm bar that disappears when done on a terminal; elsewhere with a line on stderr as the
    stage starts and one as it ends."""
    if not on_terminal():
        return _stage_lines(items, description, total, unit)
    from tqdm import tqdm  # only when a bar is drawn: importing it costs a command's start-up time otherwise

    return tqdm(items, desc=description, total=total, unit=unit, unit_scale=unit_scale, leave=False, dynamic_ncols=True)


def _stage_lines(items: Iterable[Item], description: str, total: int | None, unit: str) -> Iterator[Item]:
    count = f" ({total} {unit}{'s' if total != 1 and not unit.endswith('s') else ''})" if total is not None else ""
    print(f"dnnet: {description}{count} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield from items
    print(f"dnnet: {description}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
