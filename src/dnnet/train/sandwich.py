"""Slimmable training's sandwich rule with in-place distillation (Yu & Huang, 2019), as a baseline.

Every step trains the largest width on the labels, and the smallest plus two random widths on the
largest width's detached prediction. Batch norm statistics are then recalibrated per width
(`dnnet.evaluation.recalibrated_grid_accuracy`), because one set of running statistics cannot
serve widths whose channels see different inputs.
"""

from __future__ import annotations

import torch
from torch import nn

from dnnet.loss import JointLoss
from dnnet.models.dnnet import DNNet

RANDOM_WIDTHS = 2


def sandwich_widths(groups: int, seed: int, step: int) -> list[int]:
    """Smallest, random ones, largest last (the teacher); fixed by (seed, step) so a resumed run samples the same."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step + 7)
    middle = list(range(2, groups))
    count = min(RANDOM_WIDTHS, len(middle))
    chosen = [middle[int(i)] for i in torch.randperm(len(middle), generator=generator)[:count]]
    return sorted({1, *chosen, groups})


class SandwichLogits(nn.Module):
    """`forward(x)` -> (N, 1, k, classes): the last exit of the k widths sampled for this step."""

    def __init__(self, model: DNNet, seed: int) -> None:
        super().__init__()
        self.model = model
        self.seed = seed
        self.step = 0  # training steps taken; set when a run resumes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        widths = sandwich_widths(self.model.config.groups, self.seed, self.step)
        if self.training:
            self.step += 1
        return torch.stack([self.model.forward_exits(x, w)[:, -1] for w in widths], dim=1)[:, None]


def sandwich_loss(model: DNNet) -> JointLoss:
    """Sum of the sampled widths' losses: cross-entropy for the largest, KL from it for the others."""
    cells = len(sandwich_widths(model.config.groups, 0, 0))
    return JointLoss(torch.ones(1, cells), distill_weight=1.0, temperature=1.0, scale=float(cells))
