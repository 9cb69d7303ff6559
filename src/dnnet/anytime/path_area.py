"""How good an anytime walk is: the accuracy it offers at every budget, averaged over a log-MAC axis.

Pure functions of the config, an accuracy grid and the walk. A walk's answer at a budget of b MACs is the accuracy of
the latest cell it finished within b (none before its first: accuracy 0); its `area` is the mean of that step curve
over log(b) between the axis' ends. The same measure of the static Pareto front (the best single cell under each
budget, no walking) is an upper bound that no walk through the same cells can beat on the grid it was chosen with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import cell_resources
from dnnet.anytime.path import head_macs
from dnnet.config import NetConfig
from dnnet.selection import offered_cells, pareto_front


@dataclass(frozen=True)
class LogMacAxis:
    """Budgets from `low` to `high` MACs, weighted evenly in log(MACs)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"a log-MAC axis needs 0 < low < high, got {self.low} and {self.high}")

    def share(self, start: float, end: float) -> float:
        """The part of the axis between `start` and `end` MACs (each clipped to the axis), in [0, 1]."""
        def position(macs: float) -> float:
            return math.log(min(max(macs, self.low), self.high))
        return (position(end) - position(start)) / (math.log(self.high) - math.log(self.low))


def default_axis(config: NetConfig) -> LogMacAxis:
    """From the cheapest cell the network offers (1x1; a depth-only network's first exit) to its full network."""
    cells = offered_cells(config)
    return LogMacAxis(float(min(c.macs for c in cells)), float(cells[-1].macs))


def walk_costs(config: NetConfig, path: Sequence[tuple[int, int]]) -> list[int]:
    """MACs spent when each cell of `path` is reached, every activation reused: the cell's layers once (a path only
    widens or deepens, so they hold every earlier cell's layers) plus the head of every cell visited so far."""
    costs, heads = [], 0
    for depth, width in path:
        heads += head_macs(config, depth, width)
        costs.append(cell_resources(config, depth, width).macs - head_macs(config, depth, width) + heads)
    return costs


def step_curve_area(costs: Sequence[float], accuracies: Sequence[float], axis: LogMacAxis) -> float:
    """Mean over `axis` of a step curve that is 0 before costs[0] and accuracies[k] from costs[k] until costs[k + 1]
    (the last until the axis' end). `costs` ascending; the result is in the accuracies' unit."""
    ends = list(costs[1:]) + [axis.high]
    return sum(accuracy * axis.share(start, end) for accuracy, start, end in zip(accuracies, costs, ends))


def path_area(config: NetConfig, accuracy: torch.Tensor, path: Sequence[tuple[int, int]], axis: LogMacAxis | None = None) -> float:
    """The `area` of walking `path`: the mean over `axis` (default: `default_axis`) of the accuracy (read from the
    (depths, widths) grid `accuracy`) of the latest cell finished within each budget."""
    return step_curve_area(walk_costs(config, path), [float(accuracy[d - 1, w - 1]) for d, w in path], axis or default_axis(config))


def front_curve(config: NetConfig, choose_with: torch.Tensor, read_on: torch.Tensor) -> tuple[list[int], list[float]]:
    """The static Pareto front as a step curve: at each budget, the best cell on `choose_with` (validation) among those
    within it, its accuracy read on `read_on` (the same grid, or test). Returns (MACs, accuracies), cheapest first."""
    front = pareto_front(choose_with, offered_cells(config))
    return [c.macs for c in front], [float(read_on[c.depth - 1, c.width - 1]) for c in front]


def front_area(config: NetConfig, choose_with: torch.Tensor, read_on: torch.Tensor, axis: LogMacAxis | None = None) -> float:
    """The `area` of the static Pareto front (`front_curve`) over `axis` (default: `default_axis`)."""
    return step_curve_area(*front_curve(config, choose_with, read_on), axis or default_axis(config))
