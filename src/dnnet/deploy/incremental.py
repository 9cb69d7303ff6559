"""The network's layers prepared for computing any range of channel groups, for inference.

Channel causality makes the channels of groups 1..w final once computed: a wider sub-network only
appends channels, and a deeper one only appends layers. Every layer here computes the output
groups old+1..new from its input groups 1..new, so widening by a group and running a layer for
the first time (old = 0) are the same operation. Batch norm is folded into the convolutions and
the causal mask applied once, so a step costs one convolution per layer and nothing else.
At batch 1 on a CPU a step's time is mostly per-call overhead, so each group range's weights are cut
out once (contiguous, kept for the next walk) and activations are finished in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.layers.group_shortcut import GroupPadShortcut
from dnnet.models.dnnet import DNNet
from dnnet.slicing import fold_batchnorm, slice_subnet


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
    ranges: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict, compare=False)

    def groups(self, x: torch.Tensor, old: int, new: int) -> torch.Tensor:
        """Output channels of groups old+1..new; `x` carries at least input groups 1..new (or the image)."""
        weight, bias = self.range_weights(old, new)
        return F.conv2d(x[:, : weight.shape[1]], weight, bias, self.stride, self.padding)

    def range_weights(self, old: int, new: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The weight rows of groups old+1..new over the inputs they see, made contiguous once."""
        if (old, new) not in self.ranges:
            rows = slice(old * self.out_group_channels, new * self.out_group_channels)
            inputs = self.in_group_channels if self.shared_input else new * self.in_group_channels
            self.ranges[(old, new)] = (self.weight[rows, :inputs].contiguous(), self.bias[rows].contiguous())
        return self.ranges[(old, new)]


def _group_conv(conv: nn.Conv2d, in_group_channels: int, out_group_channels: int, shared_input: bool = False) -> GroupConv:
    """A folded convolution of the full slice, read group by group."""
    return GroupConv(conv.weight.detach().contiguous(), conv.bias.detach(), conv.stride[0], conv.padding[0],
                     in_group_channels, out_group_channels, shared_input)


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
        middle[:, rows] = self.conv1.groups(x, old, new).relu_()
        residual = self.conv2.groups(middle, old, new)
        output[:, rows] = residual.add_(self._shortcut(x, old, new)).relu_()

    def _shortcut(self, x: torch.Tensor, old: int, new: int) -> torch.Tensor:
        if isinstance(self.shortcut, GroupConv):
            return self.shortcut.groups(x, old, new)
        in_channels = self.conv1.in_group_channels
        own = x[:, old * in_channels : new * in_channels]  # group i of the output comes from group i of the input
        return own if isinstance(self.shortcut, nn.Identity) else self.shortcut(own)


def fold_network(model: DNNet) -> tuple[GroupConv, list[GroupBlock]]:
    """The stem and every block of a causal network, from its full slice with batch norm folded."""
    config = model.config
    if not config.causal:
        raise ValueError("computing groups incrementally is exact only for channel-causal convolutions")
    full = fold_batchnorm(slice_subnet(model.eval(), config.num_exits, config.groups))
    channels = config.group_channels
    stem = _group_conv(full.stem, config.in_channels, channels[0], shared_input=True)
    blocks = []
    for index, block in enumerate(full.blocks, start=1):
        in_gc, out_gc = channels[config.stage_of_block(index - 1)], channels[config.stage_of_block(index)]
        shortcut = block.shortcut
        if isinstance(shortcut, nn.Conv2d):  # the causal projection, folded
            shortcut = _group_conv(shortcut, in_gc, out_gc)
        elif not isinstance(shortcut, (nn.Identity, GroupPadShortcut)):
            raise TypeError(f"unknown shortcut {type(shortcut).__name__}")
        blocks.append(GroupBlock(_group_conv(block.conv1, in_gc, out_gc), _group_conv(block.conv2, out_gc, out_gc), shortcut))
    return stem, blocks
