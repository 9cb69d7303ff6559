"""The residual basic block of the CIFAR ResNet with every part channel causal."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import BlockPlan
from dnnet.layers.causal_conv import ChannelCausalConv2d
from dnnet.layers.group_shortcut import make_shortcut
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d


class CausalBasicBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus a shortcut, then ReLU; width follows the input."""

    def __init__(self, plan: BlockPlan, groups: int, causal: bool = True) -> None:
        super().__init__()
        in_gc, out_gc = plan.in_group_channels, plan.out_group_channels
        self.conv1 = ChannelCausalConv2d(in_gc, out_gc, groups, stride=plan.stride, causal=causal)
        self.bn1 = PrefixBatchNorm2d(out_gc * groups)
        self.conv2 = ChannelCausalConv2d(out_gc, out_gc, groups, causal=causal)
        self.bn2 = PrefixBatchNorm2d(out_gc * groups)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = make_shortcut(plan, groups, sliceable=True, causal=causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))
