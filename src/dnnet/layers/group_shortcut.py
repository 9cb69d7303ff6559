"""Causal shortcuts for a residual block that changes resolution or channels per group."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.config import BlockPlan
from dnnet.layers.causal_conv import ChannelCausalConv2d
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d


class GroupPadShortcut(nn.Module):
    """ResNet "option A" shortcut, zero-padded inside each group instead of at the channel end.

    Appending zeros at the end of the channel axis would move input group i's channels into
    output groups > i; padding each group keeps group i -> group i, so causality holds.
    Works on any number of groups, so the sliced sub-network uses the same layer.
    """

    def __init__(self, in_group_channels: int, out_group_channels: int, stride: int) -> None:
        super().__init__()
        if out_group_channels < in_group_channels:
            raise ValueError(f"padding cannot shrink a group: {in_group_channels} -> {out_group_channels} channels")
        self.in_group_channels = in_group_channels
        self.out_group_channels = out_group_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # views until the pad, so the padded output is the only new tensor
        grouped = x[:, :, :: self.stride, :: self.stride].unflatten(1, (-1, self.in_group_channels))
        padded = F.pad(grouped, (0, 0, 0, 0, 0, self.out_group_channels - self.in_group_channels))
        return padded.flatten(1, 2)

    def extra_repr(self) -> str:
        return f"{self.in_group_channels}->{self.out_group_channels} per group, stride={self.stride}"


class CausalProjectionShortcut(nn.Module):
    """The alternative to padding: a channel-causal 1x1 convolution followed by batch norm."""

    def __init__(self, in_group_channels: int, out_group_channels: int, groups: int, stride: int, causal: bool = True) -> None:
        super().__init__()
        self.conv = ChannelCausalConv2d(in_group_channels, out_group_channels, groups, kernel_size=1, stride=stride, causal=causal)
        self.bn = PrefixBatchNorm2d(out_group_channels * groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def make_shortcut(plan: BlockPlan, width: int, sliceable: bool, causal: bool = True) -> nn.Module:
    """The shortcut of the block `plan` over `width` groups: the rule of both the sliceable network
    (`sliceable`: causal layers) and its fixed-size slices (plain torch layers of `width` groups)."""
    if plan.shortcut == "identity":
        return nn.Identity()
    if plan.shortcut == "pad":
        return GroupPadShortcut(plan.in_group_channels, plan.out_group_channels, plan.stride)
    if sliceable:
        return CausalProjectionShortcut(plan.in_group_channels, plan.out_group_channels, width, plan.stride, causal)
    out_channels = plan.out_group_channels * width
    return nn.Sequential(nn.Conv2d(plan.in_group_channels * width, out_channels, 1, plan.stride, bias=False),
                         nn.BatchNorm2d(out_channels))
