"""The most accurate cell within limits, read from an accuracy grid (validation's, never test's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import CellResources
from dnnet.selection.budget import Budget, BudgetError, explain_infeasible
from dnnet.selection.offered_cells import cells_within


@dataclass(frozen=True)
class ChosenCell:
    """A cell picked for its accuracy, and that accuracy."""

    cell: CellResources
    accuracy: float  # on the split the choice was made with (validation, never test)


def best_within(accuracy: torch.Tensor, cells: Sequence[CellResources], limits: Mapping[str, float]) -> ChosenCell | None:
    """The most accurate of `cells` within every limit, or None; ties go to the cheaper cell in MACs.

    `accuracy` is a (depths, widths) grid, read at each cell's (depth, width)."""
    fits = cells_within(cells, limits)
    if not fits:
        return None
    best = max(fits, key=lambda c: (accuracy_of(accuracy, c), -c.macs))
    return ChosenCell(best, accuracy_of(accuracy, best))


def choose(accuracy: torch.Tensor, cells: Sequence[CellResources], budget: Budget) -> ChosenCell:
    """The most accurate cell within every limit; `BudgetError` explains an impossible budget."""
    choice = best_within(accuracy, cells, budget.limits)
    if choice is None:
        raise BudgetError(explain_infeasible(cells, budget))
    return choice


def accuracy_of(accuracy: torch.Tensor, cell: CellResources) -> float:
    """The grid's value at the cell: `accuracy` is (depths, widths), the cell's depth and width 1-based."""
    return accuracy[cell.depth - 1, cell.width - 1].item()
