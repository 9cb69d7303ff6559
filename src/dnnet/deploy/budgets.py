"""Budgets over several resources, and the cell each one allows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import CellResources
from dnnet.selection import Choice, best_within

# command-line name -> CellResources field, and its unit in messages
RESOURCES = {
    "macs": ("macs", "MACs"),
    "params": ("params", "parameters"),
    "memory": ("peak_act_bytes", "bytes of peak activation memory"),
    "feature_map": ("largest_feature_map", "values in the largest feature map"),
}
_SIZE = re.compile(r"^\s*([0-9.eE+-]+)\s*([KMG]i?B|B)?\s*$")
_UNITS = {None: 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


class BudgetError(ValueError):
    """No cell meets the budgets; the message says which resource rules them out."""


def parse_size(text: str) -> float:
    """'64KiB' -> 65536, '1.5MB' -> 1.5e6, '2048' -> 2048 (bytes)."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"a memory size is a number with an optional unit (B, KB, KiB, MB, MiB, ...), got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Budget:
    """Limits per resource, by `CellResources` field; a missing resource is unconstrained."""

    limits: dict[str, float]

    def __post_init__(self) -> None:
        for field, limit in self.limits.items():
            if not limit > 0:
                raise ValueError(f"a budget must be positive, got {field} <= {limit}")


def choose(accuracy: torch.Tensor, grid: Sequence[CellResources], budget: Budget) -> Choice:
    """The most accurate cell within every limit; `BudgetError` explains an impossible budget."""
    choice = best_within(accuracy, grid, budget.limits)
    if choice is None:
        raise BudgetError(explain_infeasible(grid, budget))
    return choice


def explain_infeasible(grid: Sequence[CellResources], budget: Budget) -> str:
    cheapest = min(grid, key=lambda c: c.macs)
    figures = ", ".join(f"{getattr(cheapest, field):,} {unit}" for field, unit in RESOURCES.values())
    ruling_out = [field for field, limit in budget.limits.items() if all(getattr(c, field) > limit for c in grid)]
    if ruling_out:
        field = ruling_out[0]
        least = min(getattr(c, field) for c in grid)
        reason = f"{field} <= {budget.limits[field]:,.0f} rules out every cell (the least any cell needs is {least:,})"
    else:
        reason = "each budget alone leaves some cells, but no cell meets all of them together"
    return f"no cell fits: {reason}; the cheapest cell, D{cheapest.depth}&W{cheapest.width}, needs {figures}"


def pareto_cells(accuracy: torch.Tensor, grid: Sequence[CellResources], fields: Sequence[str]) -> list[CellResources]:
    """Cells that no other cell matches or beats in accuracy and in every one of `fields` (strictly in one)."""
    def acc(cell: CellResources) -> float:
        return accuracy[cell.depth - 1, cell.width - 1].item()

    def dominates(a: CellResources, b: CellResources) -> bool:
        no_worse = acc(a) >= acc(b) and all(getattr(a, f) <= getattr(b, f) for f in fields)
        better = acc(a) > acc(b) or any(getattr(a, f) < getattr(b, f) for f in fields)
        return no_worse and better

    front = [c for c in grid if not any(dominates(other, c) for other in grid)]
    return sorted(front, key=lambda c: [getattr(c, f) for f in fields])
