"""Slimmable training's sandwich rule with in-place distillation (Yu & Huang, 2019), as a baseline.

Every step trains the largest width on the labels, and the smallest plus two random widths on the
largest width's detached prediction. Batch norm statistics are then recalibrated per width
(`dnnet.evaluation.recalibrated_grid_accuracy`), because one set of running statistics cannot
serve widths whose channels see different inputs.
"""

from __future__ import annotations

import torch

from dnnet.loss import JointLoss
from dnnet.models.dnnet import DNNet
from dnnet.train.random_streams import random_stream

RANDOM_WIDTHS = 2


def sandwich_widths(groups: int, seed: int, step: int) -> list[int]:
    """Smallest, random ones, largest last (the teacher); fixed by (seed, global step) so a resumed run samples the same."""
    middle = list(range(2, groups))
    count = min(RANDOM_WIDTHS, len(middle))
    order = torch.randperm(len(middle), generator=random_stream(seed, "sandwich_widths", step))
    return sorted({1, *(middle[int(i)] for i in order[:count]), groups})


def sandwich_loss(model: DNNet, label_smoothing: float = 0.0, teacher_weight: float = 0.0,
                  teacher_temperature: float = 1.0) -> JointLoss:
    """Sum of the sampled widths' losses: cross-entropy (label-smoothed by `label_smoothing`) for the largest, KL from it
    for the others; with a separate teacher's logits, each mixed with the distillation from it (see `JointLoss`)."""
    cells = len(sandwich_widths(model.config.groups, 0, 0))
    return JointLoss(torch.ones(1, cells), distill_weight=1.0, temperature=1.0, reduction="cells",
                     label_smoothing=label_smoothing, teacher_weight=teacher_weight, teacher_temperature=teacher_temperature)
