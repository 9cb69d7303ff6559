"""The cells no other cell beats in accuracy and cost at once."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dnnet.accounting import CellResources
from dnnet.selection.best_cell import accuracy_of


def pareto_front(accuracy: torch.Tensor, cells: Sequence[CellResources], fields: Sequence[str] = ("macs",)) -> list[CellResources]:
    """Cells that no other cell matches or beats in accuracy and in every one of `fields` (strictly in one),
    ordered by those fields, cheapest first."""
    scores = {cell: accuracy_of(accuracy, cell) for cell in cells}

    def dominates(a: CellResources, b: CellResources) -> bool:
        costs_a, costs_b = [getattr(a, f) for f in fields], [getattr(b, f) for f in fields]
        no_worse = scores[a] >= scores[b] and all(x <= y for x, y in zip(costs_a, costs_b))
        return no_worse and (scores[a] > scores[b] or costs_a != costs_b)

    front = [c for c in cells if not any(dominates(other, c) for other in cells)]
    return sorted(front, key=lambda c: [getattr(c, f) for f in fields])
