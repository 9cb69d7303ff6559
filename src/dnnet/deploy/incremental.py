"""The network's layers prepared for computing any range of channel groups, for inference.

Channel causality makes the channels of groups 1..w final once computed: a wider sub-network only
appends channels, and a deeper one only appends layers. Every layer here computes the output
groups old+1..new from its input groups 1..new, so widening by a group and running a layer for
the first time (old = 0) are the same operation. Batch norm is folded into the convolutions and
the causal mask applied once, so a step costs one convolution per layer and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.layers import CausalBasicBlock, ChannelCausalConv2d, PrefixBatchNorm2d
from dnnet.layers.group_shortcut import CausalProjectionShortcut, GroupPadShortcut
from dnnet.models.dnnet import DNNet


@dataclass(frozen=True)
class GroupConv:
    """A causal convolution with its batch norm folded in, computable group range by group range."""

    weight: torch.Tensor  # masked, scaled by the batch norm: (out channels, in channels, k, k)
    bias: torch.Tensor
    stride: int
    padding: int
    in_group_channels: int
    out_group_channels: int
    shared_input: bool

    def groups(self, x: torch.Tensor, old: int, new: int) -> torch.Tensor:
        """Output channels of groups old+1..new; `x` carries at least input groups 1..new (or the image)."""
        rows = slice(old * self.out_group_channels, new * self.out_group_channels)
        inputs = self.in_group_channels if self.shared_input else new * self.in_group_channels
        return F.conv2d(x[:, :inputs], self.weight[rows, :inputs], self.bias[rows], self.stride, self.padding)


def fold(conv: ChannelCausalConv2d, bn: PrefixBatchNorm2d) -> GroupConv:
    if not conv.causal:
        raise ValueError("computing groups incrementally is exact only for channel-causal convolutions")
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = (conv.weight * conv.mask) * scale[:, None, None, None]
    return GroupConv(weight.detach().contiguous(), (bn.bias - bn.running_mean * scale).detach(), conv.stride,
                     conv.padding, conv.in_group_channels, conv.out_group_channels, conv.shared_input)


@dataclass(frozen=True)
class GroupBlock:
    """A residual block as two folded convolutions and its shortcut."""

    conv1: GroupConv
    conv2: GroupConv
    shortcut: nn.Module | GroupConv  # nn.Identity, GroupPadShortcut, or a folded projection

    def groups(self, x: torch.Tensor, middle: torch.Tensor, output: torch.Tensor, old: int, new: int) -> None:
        """Writes groups old+1..new of the block's middle and output activations into their buffers."""
        c = self.conv1.out_group_channels
        rows = slice(old * c, new * c)
        middle[:, rows] = F.relu(self.conv1.groups(x, old, new))
        residual = self.conv2.groups(middle, old, new)
        output[:, rows] = F.relu(residual + self._shortcut(x, old, new))

    def _shortcut(self, x: torch.Tensor, old: int, new: int) -> torch.Tensor:
        if isinstance(self.shortcut, GroupConv):
            return self.shortcut.groups(x, old, new)
        in_channels = self.conv1.in_group_channels
        own = x[:, old * in_channels : new * in_channels]  # group i of the output comes from group i of the input
        return own if isinstance(self.shortcut, nn.Identity) else self.shortcut(own)


def fold_block(block: CausalBasicBlock) -> GroupBlock:
    shortcut = block.shortcut
    if isinstance(shortcut, CausalProjectionShortcut):
        shortcut = fold(shortcut.conv, shortcut.bn)
    elif not isinstance(shortcut, (nn.Identity, GroupPadShortcut)):
        raise TypeError(f"unknown shortcut {type(shortcut).__name__}")
    return GroupBlock(fold(block.conv1, block.bn1), fold(block.conv2, block.bn2), shortcut)


def fold_network(model: DNNet) -> tuple[GroupConv, list[GroupBlock]]:
    """The stem and every block of an eval-mode causal network, folded."""
    return fold(model.stem, model.stem_bn), [fold_block(block) for block in model.blocks]
