"""Choosing a cell: the best validation accuracy among the cells that fit every budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import CellResources


@dataclass(frozen=True)
class Choice:
    cell: CellResources
    accuracy: float  # on the split the choice was made with (validation, never test)


def best_within(accuracy: torch.Tensor, grid: Sequence[CellResources], budgets: dict[str, float]) -> Choice | None:
    """The most accurate cell whose every budgeted resource is within its budget, or None.

    `budgets` maps `CellResources` fields (e.g. "macs", "peak_act_bytes") to limits. Ties go to
    the cheaper cell in MACs.
    """
    fits = [c for c in grid if all(getattr(c, field) <= limit for field, limit in budgets.items())]
    if not fits:
        return None
    best = max(fits, key=lambda c: (accuracy[c.depth - 1, c.width - 1].item(), -c.macs))
    return Choice(best, accuracy[best.depth - 1, best.width - 1].item())


def pareto_front(accuracy: torch.Tensor, grid: Sequence[CellResources], resource: str = "macs") -> list[CellResources]:
    """Cells that no other cell beats in both accuracy (higher) and `resource` (lower), cheapest first."""
    front, best_so_far = [], -1.0
    for cell in sorted(grid, key=lambda c: (getattr(c, resource), -accuracy[c.depth - 1, c.width - 1].item())):
        value = accuracy[cell.depth - 1, cell.width - 1].item()
        if value > best_so_far:
            front.append(cell)
            best_so_far = value
    return front
