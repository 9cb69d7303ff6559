"""The bottleneck block of the ImageNet ResNets (ResNet-50 and deeper) with every convolution channel causal."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import BlockPlan
from dnnet.layers.causal_conv import ChannelCausalConv2d
from dnnet.layers.group_shortcut import make_shortcut
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d


class CausalBottleneckBlock(nn.Module):
    """conv1x1 - BN - ReLU - conv3x3 (the stride) - BN - ReLU - conv1x1 - BN, plus a shortcut, then ReLU; the stride
    sits on the 3x3 convolution, as torchvision's ResNet-50 has it; width follows the input."""

    def __init__(self, plan: BlockPlan, groups: int, causal: bool = True) -> None:
        super().__init__()
        in_gc, mid_gc, out_gc = plan.in_group_channels, plan.mid_group_channels, plan.out_group_channels
        self.conv1 = ChannelCausalConv2d(in_gc, mid_gc, groups, kernel_size=1, causal=causal)
        self.bn1 = PrefixBatchNorm2d(mid_gc * groups)
        self.conv2 = ChannelCausalConv2d(mid_gc, mid_gc, groups, stride=plan.stride, causal=causal)
        self.bn2 = PrefixBatchNorm2d(mid_gc * groups)
        self.conv3 = ChannelCausalConv2d(mid_gc, out_gc, groups, kernel_size=1, causal=causal)
        self.bn3 = PrefixBatchNorm2d(out_gc * groups)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = make_shortcut(plan, groups, sliceable=True, causal=causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))
