"""What a training step optimises: the joint loss over the cells its weights select."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.loss import JointLoss, cell_weights
from dnnet.models.dnnet import DNNet
from dnnet.train.sandwich import SandwichLogits, sandwich_loss


def resolve_weighting(config: NetConfig, weighting: str) -> str:
    """weighting="auto": every cell of a DNNet, the last exit of a plain network, every exit of a depth-only one."""
    if weighting != "auto":
        return weighting
    if config.causal:
        return "uniform"
    return "final" if config.exits == "last" else "depth_only"


class TrainedCellLogits(nn.Module):
    """Wraps a DNNet so that `forward(x)` returns the logits of the cells a run trains.

    A causal network gives every cell from one pass (`forward_all`). When only the full width is
    trained (plain or depth-only training), one full-width pass (`forward_exits`) suffices; this
    matters for dense networks, whose `forward_all` runs one pass per width. Being a module with a
    plain `forward`, it can be wrapped in DistributedDataParallel.
    """

    def __init__(self, model: DNNet, full_width_only: bool) -> None:
        super().__init__()
        self.model = model
        self.full_width_only = full_width_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.full_width_only:
            return self.model.forward_exits(x)[:, :, None]  # (N, depths, 1, classes)
        return self.model.forward_all(x)


def build_objective(
    model: DNNet, weighting: str, distill_weight: float, temperature: float, loss_scale: str = "eq2",
    objective: str = "joint", seed: int = 0,
) -> tuple[nn.Module, JointLoss]:
    """The logits module to run and the joint loss over its output."""
    if objective == "sandwich":
        return SandwichLogits(model, seed), sandwich_loss(model)
    weights = cell_weights(model.config, resolve_weighting(model.config, weighting))
    scale = float((weights.sum(1) > 0).sum()) if loss_scale == "depths" else 1.0  # Eq. 2 summed over the trained exits
    full_width_only = bool(weights[:, :-1].sum() == 0)
    loss = JointLoss(weights[:, -1:] if full_width_only else weights, distill_weight, temperature, scale)
    return TrainedCellLogits(model, full_width_only), loss
