"""Which cells fit a resource budget: the question the paper's Figure 5 asks."""

from __future__ import annotations

from collections.abc import Sequence

from dnnet.accounting.cell_resources import CellResources


def cells_within(grid: Sequence[CellResources], resource: str, budget: float) -> list[CellResources]:
    """Cells whose `resource` (a `CellResources` field, e.g. "macs") is at most `budget`."""
    return [cell for cell in grid if getattr(cell, resource) <= budget]


def deepest_exit_at_width(grid: Sequence[CellResources], width: int, resource: str, budget: float) -> CellResources | None:
    """The deepest cell of the given width within the budget, or None if even D1 is over it."""
    fitting = [cell for cell in cells_within(grid, resource, budget) if cell.width == width]
    return max(fitting, key=lambda cell: cell.depth, default=None)


def widest_per_depth(grid: Sequence[CellResources], resource: str, budget: float) -> dict[int, CellResources]:
    """For every depth with a fitting cell, the widest cell within the budget."""
    widest: dict[int, CellResources] = {}
    for cell in cells_within(grid, resource, budget):
        if cell.depth not in widest or cell.width > widest[cell.depth].width:
            widest[cell.depth] = cell
    return widest
