"""Knowledge distillation's soft loss: how far each cell's softened prediction is from a teacher's."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_loss(teacher_logits: torch.Tensor, logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 KL(softmax(teacher / T) || softmax(cell / T)) per cell, averaged over the batch: (depths, widths).

    `logits`: (N, depths, widths, classes); `teacher_logits`: broadcastable to them, e.g. (N, 1, 1, classes). The
    teacher is detached (it learns nothing from its students); T^2 keeps the gradient's scale as T changes (Hinton et al.).
    """
    t = temperature
    teacher = F.softmax(teacher_logits.detach() / t, dim=-1)
    student = F.log_softmax(logits / t, dim=-1)
    return (teacher * (teacher.clamp_min(1e-12).log() - student)).sum(-1).mean(0) * t * t
