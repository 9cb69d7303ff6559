"""The residual basic block of the CIFAR ResNet with every part channel causal."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.layers.causal_conv import ChannelCausalConv2d
from dnnet.layers.group_shortcut import CausalProjectionShortcut, GroupPadShortcut
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d


class CausalBasicBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus a shortcut, then ReLU; width follows the input."""

    def __init__(
        self,
        in_group_channels: int,
        out_group_channels: int,
        groups: int,
        stride: int = 1,
        shortcut: str = "pad",
        causal: bool = True,
    ) -> None:
        super().__init__()
        self.conv1 = ChannelCausalConv2d(in_group_channels, out_group_channels, groups, stride=stride, causal=causal)
        self.bn1 = PrefixBatchNorm2d(out_group_channels * groups)
        self.conv2 = ChannelCausalConv2d(out_group_channels, out_group_channels, groups, causal=causal)
        self.bn2 = PrefixBatchNorm2d(out_group_channels * groups)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = make_shortcut(in_group_channels, out_group_channels, groups, stride, shortcut, causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


def make_shortcut(
    in_group_channels: int, out_group_channels: int, groups: int, stride: int, kind: str, causal: bool = True
) -> nn.Module:
    """Identity when shapes match, else the per-group padding or the causal 1x1 projection."""
    if stride == 1 and in_group_channels == out_group_channels:
        return nn.Identity()
    if kind == "pad":
        return GroupPadShortcut(in_group_channels, out_group_channels, stride)
    return CausalProjectionShortcut(in_group_channels, out_group_channels, groups, stride, causal)
