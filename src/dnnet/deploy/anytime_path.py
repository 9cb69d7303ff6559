"""Which path an anytime runner walks, what it costs, and when it may stop early.

Pure functions of the accuracy and resource tables: the greedy default path (best accuracy gained
per MAC spent), the MACs of walking a path incrementally or from scratch, and a confidence
threshold chosen on validation predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.accounting import cell_resources
from dnnet.accounting.counting_rules import linear_macs
from dnnet.accounting.layer_specs import exit_channels
from dnnet.config import NetConfig

Cell = tuple[int, int]


def default_path(config: NetConfig, accuracy: torch.Tensor) -> list[Cell]:
    """From D1&W1 to the full network, each step the neighbour (one wider or one deeper) with the best
    accuracy gained per MAC spent. A depth-only (dense) network can only deepen, at full width."""
    if not config.causal:
        return [(d, config.groups) for d in range(1, config.num_exits + 1)]
    macs = {(d, w): cell_resources(config, d, w).macs for d in range(1, config.num_exits + 1)
            for w in range(1, config.groups + 1)}
    cell, path = (1, 1), [(1, 1)]
    while cell != (config.num_exits, config.groups):
        d, w = cell
        options = [c for c in [(d, w + 1), (d + 1, w)] if c in macs]
        gain = {c: (accuracy[c[0] - 1, c[1] - 1] - accuracy[d - 1, w - 1]).item() / (macs[c] - macs[cell]) for c in options}
        cell = max(options, key=lambda c: (gain[c], -macs[c]))
        path.append(cell)
    return path


@dataclass(frozen=True)
class PathCost:
    incremental_macs: int  # walking the path, reusing every activation: the last cell's layers once, plus every exit's head
    from_scratch_macs: int  # running every cell of the path on its own
    final_cell_macs: int  # running the last cell once


def head_macs(config: NetConfig, depth: int, width: int) -> int:
    return linear_macs(exit_channels(config, depth, width), config.num_classes)


def path_cost(config: NetConfig, path: Sequence[Cell]) -> PathCost:
    final = cell_resources(config, *path[-1]).macs
    layers_of_final = final - head_macs(config, *path[-1])
    return PathCost(incremental_macs=layers_of_final + sum(head_macs(config, d, w) for d, w in path),
                    from_scratch_macs=sum(cell_resources(config, d, w).macs for d, w in path), final_cell_macs=final)


@dataclass(frozen=True)
class EarlyStop:
    threshold: float
    accuracy: float  # on the split it was chosen with, stopping at the first confident step
    full_path_accuracy: float
    mean_steps: float  # steps walked on average (1 = the first cell)


def stop_step(step_logits: torch.Tensor, threshold: float) -> torch.Tensor:
    """Per image, the index of the first step whose top softmax probability reaches `threshold` (else the last)."""
    confident = step_logits.softmax(-1).amax(-1) >= threshold  # (N, steps)
    confident[:, -1] = True
    return confident.float().argmax(1)


def choose_threshold(step_logits: torch.Tensor, labels: torch.Tensor, tolerance: float = 0.005,
                     candidates: Sequence[float] = tuple(x / 100 for x in range(50, 100)) + (0.995, 0.999)) -> EarlyStop:
    """The lowest threshold whose early-stopped accuracy is within `tolerance` of walking the whole path.

    `step_logits` (N, steps, classes) are the path's predictions on validation images.
    """
    correct = step_logits.argmax(-1) == labels[:, None]  # (N, steps)
    full = correct[:, -1].double().mean().item()
    rows = torch.arange(len(labels))
    chosen = None
    for threshold in sorted(candidates):
        steps = stop_step(step_logits, threshold)
        accuracy = correct[rows, steps].double().mean().item()
        if accuracy >= full - tolerance:
            chosen = EarlyStop(threshold, accuracy, full, steps.double().mean().item() + 1)
            break
    if chosen is None:  # nothing below 1 keeps the accuracy: never stop early
        chosen = EarlyStop(1.0, full, full, float(step_logits.shape[1]))
    return chosen


@torch.no_grad()
def path_logits(model, x: torch.Tensor, path: Sequence[Cell], batch_size: int = 500) -> torch.Tensor:
    """(N, steps, classes): the logits of every cell of the path (for choosing a threshold), `batch_size`
    images at a time: one `forward_all`, or for a dense network one pass of its exits at the path's width."""
    model.eval()
    rows = []
    for start in range(0, len(x), batch_size):
        images = x[start : start + batch_size]
        if model.config.causal:
            every_cell = model.forward_all(images)
            rows.append(torch.stack([every_cell[:, d - 1, w - 1] for d, w in path], dim=1))
        else:  # a dense path keeps one width
            exits = model.forward_exits(images, path[0][1])
            rows.append(exits[:, [d - 1 for d, _ in path]])
    return torch.cat(rows)
