"""What a training step optimises: the joint loss over the cells its weights select."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.loss import JointLoss, cell_weights
from dnnet.models.dnnet import DNNet

# the loss each kind of preset trains with under weighting="auto"
AUTO_WEIGHTING = {"resnet32": "final", "resnet32_anytime": "depth_only"}


def resolve_weighting(preset: str, weighting: str) -> str:
    return AUTO_WEIGHTING.get(preset, "uniform") if weighting == "auto" else weighting


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
    model: DNNet, preset: str, weighting: str, distill_weight: float, temperature: float, loss_scale: str = "eq2"
) -> tuple[TrainedCellLogits, JointLoss]:
    """The logits module to run and the joint loss over its output."""
    weights = cell_weights(model.config, resolve_weighting(preset, weighting))
    scale = float((weights.sum(1) > 0).sum()) if loss_scale == "depths" else 1.0  # Eq. 2 summed over the trained exits
    full_width_only = bool(weights[:, :-1].sum() == 0)
    loss = JointLoss(weights[:, -1:] if full_width_only else weights, distill_weight, temperature, scale)
    return TrainedCellLogits(model, full_width_only), loss
