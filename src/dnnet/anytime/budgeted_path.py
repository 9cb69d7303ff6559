"""Which path budgeted classification walks. Each image stops at its own step by thresholds, so the path that is best
for one walk (`area`) need not be best here: "auto" sweeps the budgets with every candidate path on validation and
keeps the one with the best mean validation accuracy. Pure functions of the candidates' sweeps."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import torch

from dnnet.anytime.path_choice import ChosenPath, PathRequest, choose_path
from dnnet.config import NetConfig

CANDIDATE_RULES = ("area", "front", "greedy")  # path_choice's rules that "auto" compares
SCORED_METHOD = "greedy"  # the threshold method whose validation accuracy ranks the paths (the one the command reports)


def mean_accuracy(rows: Sequence[dict], split: str, method: str = SCORED_METHOD) -> float:
    """Mean accuracy on `split` ("val" or "test") over the budgets of a `budget_sweep`, for one threshold method."""
    values = [row[f"{split}_accuracy"] for row in rows if row["method"] == method]
    return statistics.fmean(values) if values else math.nan


def best_candidate(sweeps: dict[str, list[dict]]) -> str:
    """The candidate whose sweep has the best mean validation accuracy (ties: the first given)."""
    return max(sweeps, key=lambda name: mean_accuracy(sweeps[name], "val"))


def shared_budgets(stop_costs: Sequence[torch.Tensor], count: int) -> list[float]:
    """`count` log-spaced average budgets that every candidate path can meet: from the dearest first stop to the
    cheapest last one."""
    low = math.log(max(costs[0].item() for costs in stop_costs))
    high = math.log(min(costs[-1].item() for costs in stop_costs))
    return [math.exp(low + (high - low) * i / (count - 1)) for i in range(count)]


def candidate_paths(config: NetConfig, accuracy: torch.Tensor, request: PathRequest) -> dict[str, ChosenPath]:
    """The paths budgeted classification compares: for "auto" on a network with nested widths, one per rule of
    `CANDIDATE_RULES` (on the validation grid `accuracy`); otherwise just the path `request` names."""
    if request == "auto" and config.nested_widths:
        return {rule: choose_path(config, accuracy, rule) for rule in CANDIDATE_RULES}
    chosen = choose_path(config, accuracy, request)
    return {chosen.rule: chosen}
