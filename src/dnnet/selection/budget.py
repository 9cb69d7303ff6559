"""A budget: limits per resource, checked when written, and why no cell fits one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dnnet.accounting import CellResources
from dnnet.config import cell_name
from dnnet.errors import NoCellFits, UserError
from dnnet.selection.offered_cells import cells_within

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


def explain_infeasible(cells: Sequence[CellResources], budget: Budget) -> str:
    """One line: which limit rules out every cell (or that only their combination does), and what the cheapest cell needs."""
    cheapest = min(cells, key=lambda c: c.macs)
    figures = ", ".join(f"{getattr(cheapest, field):,} {unit}" for field, unit in RESOURCES.values())
    ruling_out = [field for field, limit in budget.limits.items() if not cells_within(cells, {field: limit})]
    if ruling_out:
        field = ruling_out[0]
        least = min(getattr(c, field) for c in cells)
        unit = {name: words for name, words in RESOURCES.values()}.get(field, field)  # the user's words, not the field's
        reason = f"{unit} <= {budget.limits[field]:,.0f} rules out every cell (the least any cell needs is {least:,})"
    else:
        reason = "each budget alone leaves some cells, but no cell meets all of them together"
    return f"no cell fits: {reason}; the cheapest cell, {cell_name(cheapest.depth, cheapest.width)}, needs {figures}"
