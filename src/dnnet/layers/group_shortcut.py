"""Causal shortcuts for a residual block that changes resolution or channels per group."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
