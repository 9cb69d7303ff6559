"""Budgeted batch classification (as MSDNet evaluates adaptive networks): a stream of images shares an *average* MAC
budget; each image walks a path of cells and stops at the first step whose confidence reaches that step's threshold,
so easy images stop early and hard ones go further. Thresholds are chosen on validation; pure functions of the path's
softmax confidences, its correctness and the MACs of stopping at each step.

Two ways to choose thresholds for a budget:
- `geometric_thresholds`, the MSDNet baseline: the share of images stopping at step k is proportional to p^k, p solved
  so that the expected cost meets the budget; each step's threshold lets that share of the remaining images stop;
- `greedy_thresholds`: coordinate search over each step's threshold (candidates: the validation confidences'
  quantiles), keeping any change that raises validation accuracy within the budget, from the geometric thresholds and
  from every image stopping at the best step the budget affords; the better of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.anytime.path_area import walk_costs
from dnnet.config import NetConfig
from dnnet.errors import UserError

NEVER = 2.0  # a threshold no softmax probability reaches: nothing stops at that step


def stop_costs(config: NetConfig, path: Sequence[tuple[int, int]]) -> torch.Tensor:
    """(steps,) MACs of an image that stops at each step: the path walked so far, reusing every activation
    (the last cell's layers once, plus every head on the way)."""
    return torch.tensor(walk_costs(config, path), dtype=torch.float64)


@dataclass(frozen=True)
class BudgetedOutcome:
    """What a set of thresholds gives on one split."""

    accuracy: float
    mean_macs: float
    stop_shares: list[float]  # share of the images that stop at each step


def stopping_steps(confidence: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """(N,) the first step whose confidence reaches its threshold; the last step for every image that got that far."""
    stops = confidence >= thresholds[None, :]
    stops[:, -1] = True
    return stops.float().argmax(1)


def outcome(confidence: torch.Tensor, correct: torch.Tensor, costs: torch.Tensor, thresholds: torch.Tensor) -> BudgetedOutcome:
    """Accuracy and mean MACs of stopping by `thresholds`; `confidence` and `correct` (N, steps) along the path."""
    steps = stopping_steps(confidence, thresholds)
    rows = torch.arange(len(steps))
    shares = torch.bincount(steps, minlength=confidence.shape[1]).double() / len(steps)
    return BudgetedOutcome(correct[rows, steps].double().mean().item(), costs[steps].mean().item(), shares.tolist())


def geometric_shares(costs: torch.Tensor, budget: float) -> torch.Tensor:
    """(steps,) shares q_k proportional to p^k whose expected cost sum(q_k costs_k) is the budget (p by bisection on
    log p; the cost rises with p). A budget below the first step's cost or above the last one's is clamped to it."""
    steps = torch.arange(len(costs), dtype=torch.float64)

    def shares(log_p: float) -> torch.Tensor:
        return torch.softmax(steps * log_p, 0)

    low, high = -50.0, 50.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if (shares(middle) * costs).sum().item() < budget else (low, middle)
    return shares((low + high) / 2)


def geometric_thresholds(confidence: torch.Tensor, costs: torch.Tensor, budget: float) -> torch.Tensor:
    """MSDNet's rule: at each step, the most confident of the images still going stop, as many as its geometric share."""
    check_budget(costs, budget)
    count, steps = confidence.shape
    wanted = (geometric_shares(costs, budget) * count).round().long()
    remaining = torch.ones(count, dtype=torch.bool)
    thresholds = torch.full((steps,), NEVER, dtype=confidence.dtype)
    for k in range(steps - 1):
        candidates = confidence[remaining, k]
        take = min(int(wanted[k]), len(candidates))
        if take == 0:
            continue
        thresholds[k] = candidates.sort(descending=True).values[take - 1]
        remaining &= confidence[:, k] < thresholds[k]
    return thresholds


def stop_at(step: int, steps: int) -> torch.Tensor:
    """Thresholds that let every image walk to `step` and stop there: one cell for all, as a static choice would."""
    thresholds = torch.full((steps,), NEVER, dtype=torch.float64)
    thresholds[step] = 0.0
    return thresholds


def greedy_thresholds(confidence: torch.Tensor, correct: torch.Tensor, costs: torch.Tensor, budget: float,
                      candidates: int = 40, rounds: int = 3) -> torch.Tensor:
    """The better on validation of two coordinate searches: one from the geometric thresholds, one from every image
    stopping at the best single step the budget affords. From the geometric start alone the search could stay in a
    local optimum below that single step (spreading images over weak early steps where all of them could afford a
    strong later one); from the single step alone, below what the geometric start reaches."""
    single = [k for k in range(len(costs)) if costs[k].item() <= budget]
    starts = [geometric_thresholds(confidence, costs, budget)]
    if single:
        best_step = max(single, key=lambda k: (correct[:, k].double().mean().item(), -k))
        starts.append(stop_at(best_step, len(costs)).to(confidence.dtype))
    searched = [coordinate_search(confidence, correct, costs, budget, start, candidates, rounds) for start in starts]
    return max(searched, key=lambda result: _rank(result[1], budget))[0]


def coordinate_search(confidence: torch.Tensor, correct: torch.Tensor, costs: torch.Tensor, budget: float, start: torch.Tensor,
                      candidates: int, rounds: int) -> tuple[torch.Tensor, BudgetedOutcome]:
    """From `start`, each step's threshold in turn takes the candidate (the validation confidences' quantiles, or
    never) that gives the best validation accuracy with a mean cost within the budget (ties: the cheaper); a few rounds
    over the steps, until one changes nothing."""
    best, best_outcome = start, outcome(confidence, correct, costs, start)
    feasible = best_outcome.mean_macs <= budget
    quantiles = torch.linspace(0, 1, candidates, dtype=confidence.dtype)
    for _ in range(rounds):
        improved = False
        for k in range(confidence.shape[1] - 1):
            options = torch.cat([torch.quantile(confidence[:, k], quantiles), torch.tensor([NEVER], dtype=confidence.dtype)])
            for value in options.unique():
                trial = best.clone()
                trial[k] = value
                result = outcome(confidence, correct, costs, trial)
                if result.mean_macs > budget:
                    continue
                better = (not feasible or result.accuracy > best_outcome.accuracy
                          or (result.accuracy == best_outcome.accuracy and result.mean_macs < best_outcome.mean_macs))
                if better:
                    best, best_outcome, feasible, improved = trial, result, True, True
        if not improved:
            break
    return best, best_outcome


def _rank(result: BudgetedOutcome, budget: float) -> tuple[bool, float, float]:
    """Within the budget first, then more accurate, then cheaper."""
    return result.mean_macs <= budget, result.accuracy, -result.mean_macs


def check_budget(costs: torch.Tensor, budget: float) -> None:
    if not budget >= costs[0].item():
        raise UserError(f"an average budget of {budget:,.0f} MACs is below the cheapest stop on the path "
                        f"({costs[0].item():,.0f} MACs: every image must reach the first cell)")


@dataclass(frozen=True)
class PathPredictions:
    """A network's path on one split: (N, steps) top softmax probability and whether the top class is right."""

    confidence: torch.Tensor
    correct: torch.Tensor

    @classmethod
    def from_logits(cls, step_logits: torch.Tensor, labels: torch.Tensor) -> PathPredictions:
        probabilities = step_logits.double().softmax(-1)
        return cls(probabilities.amax(-1), probabilities.argmax(-1) == labels[:, None])


METHODS = {  # name -> thresholds from a path's validation predictions, its stop costs and a budget
    "geometric": lambda val, costs, budget: geometric_thresholds(val.confidence, costs, budget),
    "greedy": lambda val, costs, budget: greedy_thresholds(val.confidence, val.correct, costs, budget),
}


def budget_sweep(val: PathPredictions, test: PathPredictions, costs: torch.Tensor, budgets: Sequence[float]) -> list[dict]:
    """For each average budget the path can meet and each method: thresholds chosen on validation, and what they give on
    validation and on the test split (where the mean MACs may differ a little from the budget)."""
    rows = []
    for budget in budgets:
        if budget < costs[0].item():
            continue
        for method, choose in METHODS.items():
            thresholds = choose(val, costs, budget)
            on_val, on_test = (outcome(p.confidence, p.correct, costs, thresholds) for p in (val, test))
            rows.append({"budget_macs": budget, "method": method, "thresholds": thresholds.tolist(),
                         "val_accuracy": on_val.accuracy, "val_mean_macs": on_val.mean_macs,
                         "test_accuracy": on_test.accuracy, "test_mean_macs": on_test.mean_macs,
                         "test_stop_shares": on_test.stop_shares})
    return rows
