"""A cell of the (depth, width) grid: the name every package uses for one sub-network."""

from __future__ import annotations

from typing import NamedTuple


class Cell(NamedTuple):
    """Exit `depth` (1..num_exits) at `width` groups (1..groups); equal to the plain tuple (depth, width)."""

    depth: int
    width: int


def cell_name(depth: int, width: int) -> str:
    """The cell as the paper writes it: "D14&W12"."""
    return f"D{depth}&W{width}"
