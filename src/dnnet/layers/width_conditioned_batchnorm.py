"""Batch norm conditioned on the width being run: adaptive conditioning (FiLM) of every width, as switchable batch norm.

The paper's future work: a few parameters per sub-network configuration that modulate the activations. Here each
width w has its own scale and shift on top of the layer's shared affine, and its own running statistics (the first
channels see different inputs at different widths once earlier layers are conditioned). Width w then reads
`scale = weight * (1 + width_scale[w-1])` and `shift = bias + width_shift[w-1]`: the offsets start at zero (the
unconditioned network) and weight decay pulls them back towards it.

The price: the first w groups of the full network are no longer the width-w sub-network, so every width is its own
pass (training runs one pass per width; the anytime runner cannot widen a computed cell, only deepen it).
A sliced cell folds its width's affine and statistics into a plain `nn.BatchNorm2d`: it costs nothing at inference.
"""

from __future__ import annotations

import torch
from torch import nn

from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d


class WidthConditionedBatchNorm2d(PrefixBatchNorm2d):
    """`PrefixBatchNorm2d` whose affine and running statistics are chosen by the input's width (channels // per group)."""

    width_conditioned = True

    def __init__(self, num_features: int, groups: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps, momentum)
        if num_features % groups:
            raise ValueError(f"{groups} groups do not divide {num_features} channels")
        if momentum is None:  # a cumulative average would need a batch count per width
            raise ValueError("a width-conditioned batch norm needs a momentum, not None")
        self.groups = groups
        self.width_scale = nn.Parameter(torch.zeros(groups, num_features))
        self.width_shift = nn.Parameter(torch.zeros(groups, num_features))
        # the shared running buffers stay (unused) so that state dicts keep the unconditioned layer's keys
        self.register_buffer("width_running_mean", torch.zeros(groups, num_features))
        self.register_buffer("width_running_var", torch.ones(groups, num_features))

    def width_of(self, channels: int) -> int:
        group_channels = self.num_features // self.groups
        if channels % group_channels:
            raise ValueError(f"{channels} channels are not whole groups of {group_channels}")
        return channels // group_channels

    def cell_statistics(self, channels: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Width w's row (views: the base class's batch norm updates that width's running values in place)."""
        row = self.width_of(channels) - 1
        weight = self.weight[:channels] * (1.0 + self.width_scale[row, :channels])
        bias = self.bias[:channels] + self.width_shift[row, :channels]
        return self.width_running_mean[row, :channels], self.width_running_var[row, :channels], weight, bias

    def reset_running_stats(self) -> None:
        super().reset_running_stats()
        if hasattr(self, "width_running_mean"):  # nn.BatchNorm2d's __init__ calls this before they exist
            self.width_running_mean.zero_()
            self.width_running_var.fill_(1.0)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={self.groups} (conditioned per width)"

    def scale_width_gradients(self, multipliers: list[float]) -> None:
        """From now on, the gradient of width w's scale and shift is multiplied by `multipliers[w-1]` (replacing any
        multipliers set before); all 1: plain autograd."""
        for handle in getattr(self, "_gradient_hooks", []):
            handle.remove()
        self._gradient_hooks = []
        if all(m == 1.0 for m in multipliers):
            return
        column = torch.tensor(multipliers, dtype=self.width_scale.dtype, device=self.width_scale.device)[:, None]
        self._gradient_hooks = [p.register_hook(lambda grad: grad * column.to(grad)) for p in (self.width_scale, self.width_shift)]


def condition_widths(module: nn.Module, groups: int) -> nn.Module:
    """`module` with every `PrefixBatchNorm2d` replaced by a `WidthConditionedBatchNorm2d` of `groups` widths that keeps
    its shared parameters and buffers (in place; returned for chaining)."""
    for name, child in module.named_children():
        if type(child) is PrefixBatchNorm2d:
            conditioned = WidthConditionedBatchNorm2d(child.num_features, groups, child.eps, child.momentum)
            for key, parameter in child.named_parameters(recurse=False):
                setattr(conditioned, key, parameter)
            for key, buffer in child.named_buffers(recurse=False):
                setattr(conditioned, key, buffer)
            conditioned = conditioned.to(child.weight.device).train(child.training)
            module.add_module(name, conditioned)
        else:
            condition_widths(child, groups)
    return module


def restore_conditioning_gradients(model: nn.Module, last_exit_factors: list[float]) -> None:
    """Undoes, for the per-width scales and shifts, the factor by which a recipe damps the gradient each cell passes
    into the shared layers (`auxiliary_gradient`, `last_exit_gradient`): width w's conditioning belongs to width w's
    cells alone, as their classifiers do, so it learns at the rate of its cell at the last exit (`last_exit_factors[w-1]`
    undone; the exits before it still reach it damped). A factor of 0 passes nothing to undo."""
    multipliers = [1.0 if factor == 0 else 1.0 / factor for factor in last_exit_factors]
    for module in model.modules():
        if isinstance(module, WidthConditionedBatchNorm2d):
            module.scale_width_gradients(multipliers)
