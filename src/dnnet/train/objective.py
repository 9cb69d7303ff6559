"""What a training step optimises: the joint loss over the cells its weights select."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.loss import JointLoss, cell_weights
from dnnet.models.dnnet import DNNet
from dnnet.train.sandwich import sandwich_loss, sandwich_widths
from dnnet.train.train_config import TrainConfig


def resolve_weighting(config: NetConfig, weighting: str) -> str:
    """weighting="auto": every cell of a DNNet, the last exit of a plain network, every exit of a depth-only one."""
    if weighting != "auto":
        return weighting
    if config.causal:
        return "uniform"
    return "final" if config.exits == "last" else "depth_only"


class TrainingForward(nn.Module):
    """The forward pass of a training step as one module, so that DistributedDataParallel wraps it for every objective.

    `forward(x)` -> the logits of every trained cell: from one pass (`forward_all`) for a causal
    network, or, when only the full width is trained (plain or depth-only training), from one
    full-width pass (`forward_exits`; a dense network's `forward_all` runs one pass per width).
    `forward(x, widths)` -> (N, 1, k, classes): the last exit of the k given widths (the sandwich rule).
    """

    def __init__(self, model: DNNet, full_width_only: bool = False) -> None:
        super().__init__()
        self.model = model
        self.full_width_only = full_width_only

    def forward(self, x: torch.Tensor, widths: list[int] | None = None) -> torch.Tensor:
        if widths is not None:
            return torch.stack([self.model.forward_exits(x, w)[:, -1] for w in widths], dim=1)[:, None]
        if self.full_width_only:
            return self.model.forward_exits(x)[:, :, None]  # (N, depths, 1, classes)
        return self.model.forward_all(x)


def build_objective(
    model: DNNet, weighting: str, distill_weight: float, temperature: float, loss_scale: str = "eq2",
    objective: str = "joint",
) -> tuple[TrainingForward, JointLoss]:
    """The forward module to run and the joint loss over its output (for "sandwich", given `step_widths`)."""
    if objective == "sandwich":
        return TrainingForward(model), sandwich_loss(model)
    weights = cell_weights(model.config, resolve_weighting(model.config, weighting))
    scale = float((weights.sum(1) > 0).sum()) if loss_scale == "depths" else 1.0  # Eq. 2 summed over the trained exits
    full_width_only = bool(weights[:, :-1].sum() == 0)
    loss = JointLoss(weights[:, -1:] if full_width_only else weights, distill_weight, temperature, scale)
    return TrainingForward(model, full_width_only), loss


def step_widths(config: TrainConfig, groups: int, global_step: int) -> list[int] | None:
    """The widths the sandwich rule trains at `global_step` (steps since the run began); None: the objective's cells."""
    return sandwich_widths(groups, config.seed, global_step) if config.objective == "sandwich" else None
