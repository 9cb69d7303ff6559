"""The cells a network offers, and those within limits.

Every chooser takes the cells as an argument (from `offered_cells`), so the rule "a dense network offers only its full
width" is applied once, where the cells are listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dnnet.accounting import CellResources, grid_resources
from dnnet.config import NetConfig


def offered_cells(config: NetConfig) -> list[CellResources]:
    """The cells a trained network offers, depth-major: every cell of a channel-causal network; a dense
    network's narrower widths are brute-force slices nobody trained, so it offers its full width only."""
    grid = grid_resources(config)
    return grid if config.causal else [cell for cell in grid if cell.width == config.groups]


def cells_within(cells: Sequence[CellResources], limits: Mapping[str, float]) -> list[CellResources]:
    """The cells whose every limited resource (a `CellResources` field, e.g. "macs") is at most its limit."""
    return [cell for cell in cells if all(getattr(cell, field) <= limit for field, limit in limits.items())]


def deepest_exit_at_width(cells: Sequence[CellResources], width: int, limits: Mapping[str, float]) -> CellResources | None:
    """The deepest cell of the given width within the limits, or None if even D1 is over them."""
    fitting = [cell for cell in cells_within(cells, limits) if cell.width == width]
    return max(fitting, key=lambda cell: cell.depth, default=None)


def widest_per_depth(cells: Sequence[CellResources], limits: Mapping[str, float]) -> dict[int, CellResources]:
    """For every depth with a fitting cell, the widest cell within the limits."""
    widest: dict[int, CellResources] = {}
    for cell in cells_within(cells, limits):
        if cell.depth not in widest or cell.width > widest[cell.depth].width:
            widest[cell.depth] = cell
    return widest
