"""The paper's joint loss (Eq. 2) over every (depth, width) cell, with optional label smoothing, self-distillation and
distillation from a separate teacher network."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.errors import UserError
from dnnet.loss.distillation import distillation_loss

REDUCTIONS = ("eq2", "depths", "cells")


def loss_coefficients(weights: torch.Tensor, reduction: str = "eq2") -> torch.Tensor:
    """What multiplies each cell's loss, from the weights lambda (depths, widths).

    "eq2": lambda / sum(lambda), the paper's Eq. 2 as written; "depths": the same times the number of
    exits with a weighted cell (summed over exits, as depth-only anytime networks are trained);
    "cells": lambda itself, every cell's loss summed.
    """
    if reduction not in REDUCTIONS:
        raise UserError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "cells":
        return weights
    exits = float((weights.sum(1) > 0).sum()) if reduction == "depths" else 1.0
    return exits * weights / weights.sum()


class JointLoss(nn.Module):
    """sum_{l,c} lambda(l,c) L(l,c) / sum_{l,c} lambda(l,c), where L(l,c) is the cell's loss (`reduction`
    "eq2"; see `loss_coefficients` for the others).

    With `distill_weight` a > 0, every cell but the full one learns from
    (1 - a) * cross-entropy + a * T^2 * KL(teacher || cell) at temperature T, the teacher being
    the full network's detached output (self-distillation; off by default, as in the paper).

    `label_smoothing` eps: every cross-entropy above is against (1 - eps) x one-hot + eps / classes.
    Given a separate teacher's logits (`forward`'s `teacher_logits`), every cell's loss L, the full one's included,
    becomes (1 - b) * L + b * T'^2 * KL(teacher || cell) at temperature T', b = `teacher_weight`, T' = `teacher_temperature`.
    """

    def __init__(self, weights: torch.Tensor, distill_weight: float = 0.0, temperature: float = 1.0,
                 reduction: str = "eq2", label_smoothing: float = 0.0, teacher_weight: float = 0.0,
                 teacher_temperature: float = 1.0) -> None:
        super().__init__()
        for name, value in (("distill_weight", distill_weight), ("teacher_weight", teacher_weight)):
            if not 0.0 <= value <= 1.0:
                raise UserError(f"{name} must be in [0, 1], got {value}")
        for name, value in (("temperature", temperature), ("teacher_temperature", teacher_temperature)):
            if value <= 0:
                raise UserError(f"{name} must be positive, got {value}")
        if not 0.0 <= label_smoothing < 1.0:
            raise UserError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.reduction = reduction
        self.register_buffer("weights", loss_coefficients(weights, reduction))
        self.distill_weight = distill_weight
        self.temperature = temperature
        self.label_smoothing = label_smoothing
        self.teacher_weight = teacher_weight
        self.teacher_temperature = teacher_temperature

    def cell_losses(self, logits: torch.Tensor, target: torch.Tensor, teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
        """Per-cell loss (depths, widths), averaged over the batch; logits (N, depths, widths, classes), the teacher's
        (N, classes)."""
        if logits.shape[1:3] != self.weights.shape:
            raise ValueError(f"logits cover {tuple(logits.shape[1:3])} cells, the loss weights {tuple(self.weights.shape)}")
        batch, depths, widths, _ = logits.shape
        per_cell_target = target[:, None, None].expand(batch, depths, widths)
        losses = F.cross_entropy(logits.permute(0, 3, 1, 2), per_cell_target, reduction="none",
                                 label_smoothing=self.label_smoothing).mean(0)
        if self.distill_weight > 0:
            mixed = (1 - self.distill_weight) * losses + self.distill_weight * self._distillation(logits)
            # the teacher does not learn from itself: the full cell keeps its own cross-entropy
            is_teacher = torch.zeros_like(losses, dtype=torch.bool)
            is_teacher[-1, -1] = True
            losses = torch.where(is_teacher, losses, mixed)
        if teacher_logits is not None:
            soft = distillation_loss(teacher_logits[:, None, None], logits, self.teacher_temperature)
            losses = (1 - self.teacher_weight) * losses + self.teacher_weight * soft
        return losses

    def forward(self, logits: torch.Tensor, target: torch.Tensor, coefficients: torch.Tensor | None = None,
                teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
        """The weighted sum of the cells' losses; `coefficients`: this step's multipliers of the cells' losses
        instead of the constructor's (a training recipe's step plan, already reduced: see `loss_coefficients`);
        `teacher_logits` (N, classes): a separate teacher's, for the cells to be distilled from (None: no teacher)."""
        weights = self.weights if coefficients is None else coefficients
        return (weights * self.cell_losses(logits, target, teacher_logits)).sum()

    def _distillation(self, logits: torch.Tensor) -> torch.Tensor:
        return distillation_loss(logits[:, -1:, -1:], logits, self.temperature)
