"""Choosing a cell: the cells a network offers, those within limits, the best on validation, the Pareto front.

Every chooser takes the cells as an argument (from `offered_cells`), so the rule "a dense network
offers only its full width" is applied once, where the cells are listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import CellResources, grid_resources
from dnnet.config import NetConfig, cell_name
from dnnet.errors import NoCellFits, UserError

# command-line name -> CellResources field, and its unit in messages
RESOURCES = {
    "macs": ("macs", "MACs"),
    "params": ("params", "parameters"),
    "memory": ("peak_act_bytes", "bytes of peak activation memory"),
    "feature_map": ("largest_feature_map_values", "values in the largest feature map"),
}


BudgetError = NoCellFits  # the name selection's callers know


@dataclass(frozen=True)
class Budget:
    """Limits per resource, by `CellResources` field; a missing resource is unconstrained."""

    limits: dict[str, float]

    def __post_init__(self) -> None:
        for field, limit in self.limits.items():
            if field not in CellResources.__dataclass_fields__:
                raise UserError(f"unknown resource {field!r}; budgets limit {sorted(CellResources.__dataclass_fields__)}")
            if not limit > 0:
                raise UserError(f"a budget must be positive, got {field} <= {limit}")


@dataclass(frozen=True)
class ChosenCell:
    """A cell picked for its accuracy, and that accuracy."""

    cell: CellResources
    accuracy: float  # on the split the choice was made with (validation, never test)


def offered_cells(config: NetConfig) -> list[CellResources]:
    """The cells a trained network offers, depth-major: every cell of a channel-causal network; a dense
    network's narrower widths are brute-force slices nobody trained, so it offers its full width only."""
    grid = grid_resources(config)
    return grid if config.causal else [cell for cell in grid if cell.width == config.groups]


def cells_within(cells: Sequence[CellResources], limits: Mapping[str, float]) -> list[CellResources]:
    """The cells whose every limited resource (a `CellResources` field, e.g. "macs") is at most its limit."""
    return [cell for cell in cells if all(getattr(cell, field) <= limit for field, limit in limits.items())]


def best_within(accuracy: torch.Tensor, cells: Sequence[CellResources], limits: Mapping[str, float]) -> ChosenCell | None:
    """The most accurate of `cells` within every limit, or None; ties go to the cheaper cell in MACs.

    `accuracy` is a (depths, widths) grid, read at each cell's (depth, width)."""
    fits = cells_within(cells, limits)
    if not fits:
        return None
    best = max(fits, key=lambda c: (_accuracy_of(accuracy, c), -c.macs))
    return ChosenCell(best, _accuracy_of(accuracy, best))


def choose(accuracy: torch.Tensor, cells: Sequence[CellResources], budget: Budget) -> ChosenCell:
    """The most accurate cell within every limit; `BudgetError` explains an impossible budget."""
    choice = best_within(accuracy, cells, budget.limits)
    if choice is None:
        raise BudgetError(explain_infeasible(cells, budget))
    return choice


def explain_infeasible(cells: Sequence[CellResources], budget: Budget) -> str:
    """One line: which limit rules out every cell (or that only their combination does), and what the cheapest cell needs."""
    cheapest = min(cells, key=lambda c: c.macs)
    figures = ", ".join(f"{getattr(cheapest, field):,} {unit}" for field, unit in RESOURCES.values())
    ruling_out = [field for field, limit in budget.limits.items() if not cells_within(cells, {field: limit})]
    if ruling_out:
        field = ruling_out[0]
        least = min(getattr(c, field) for c in cells)
        reason = f"{field} <= {budget.limits[field]:,.0f} rules out every cell (the least any cell needs is {least:,})"
    else:
        reason = "each budget alone leaves some cells, but no cell meets all of them together"
    return f"no cell fits: {reason}; the cheapest cell, {cell_name(cheapest.depth, cheapest.width)}, needs {figures}"


def pareto_front(accuracy: torch.Tensor, cells: Sequence[CellResources], fields: Sequence[str] = ("macs",)) -> list[CellResources]:
    """Cells that no other cell matches or beats in accuracy and in every one of `fields` (strictly in one),
    ordered by those fields, cheapest first."""
    scores = {cell: _accuracy_of(accuracy, cell) for cell in cells}

    def dominates(a: CellResources, b: CellResources) -> bool:
        costs_a, costs_b = [getattr(a, f) for f in fields], [getattr(b, f) for f in fields]
        no_worse = scores[a] >= scores[b] and all(x <= y for x, y in zip(costs_a, costs_b))
        return no_worse and (scores[a] > scores[b] or costs_a != costs_b)

    front = [c for c in cells if not any(dominates(other, c) for other in cells)]
    return sorted(front, key=lambda c: [getattr(c, f) for f in fields])


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


def _accuracy_of(accuracy: torch.Tensor, cell: CellResources) -> float:
    return accuracy[cell.depth - 1, cell.width - 1].item()
