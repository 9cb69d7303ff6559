"""Widening a computed sub-network by groups: only the new groups' channels are computed.

Channel causality makes the channels of groups 1..w final once computed: a wider sub-network
only appends channels. Each function here takes the layer, its input at the new width, and
returns the channels of the new groups w_old+1..w_new alone. Inference only (batch norm uses
its running statistics).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.layers import CausalBasicBlock, ChannelCausalConv2d, PrefixBatchNorm2d
from dnnet.layers.group_shortcut import CausalProjectionShortcut, GroupPadShortcut


def conv_new_groups(conv: ChannelCausalConv2d, x: torch.Tensor, old: int, new: int) -> torch.Tensor:
    """Output channels of groups old+1..new; `x` carries input groups 1..new (or the shared image)."""
    if not conv.causal:
        raise ValueError("widening is exact only for channel-causal convolutions (a dense network recomputes every channel)")
    rows = slice(old * conv.out_group_channels, new * conv.out_group_channels)
    inputs = conv.in_group_channels if conv.shared_input else new * conv.in_group_channels
    weight = conv.weight[rows, :inputs] * conv.mask[rows, :inputs]
    return F.conv2d(x[:, :inputs], weight, stride=conv.stride, padding=conv.padding)


def batchnorm_channels(bn: PrefixBatchNorm2d, x: torch.Tensor, start: int) -> torch.Tensor:
    """Eval-mode batch norm of channels start..start+x.shape[1] (per channel, so any range is exact)."""
    part = slice(start, start + x.shape[1])
    return F.batch_norm(x, bn.running_mean[part], bn.running_var[part], bn.weight[part], bn.bias[part], False, 0.0, bn.eps)


def shortcut_new_groups(shortcut: nn.Module, x_new: torch.Tensor, x: torch.Tensor, old: int, new: int,
                        out_group_channels: int) -> torch.Tensor:
    """The shortcut's channels of groups old+1..new; `x_new` holds only the new input groups, `x` all of them."""
    if isinstance(shortcut, nn.Identity):
        return x_new
    if isinstance(shortcut, GroupPadShortcut):
        return shortcut(x_new)  # pads inside each group: new groups in, new groups out
    if isinstance(shortcut, CausalProjectionShortcut):
        return batchnorm_channels(shortcut.bn, conv_new_groups(shortcut.conv, x, old, new), old * out_group_channels)
    raise TypeError(f"unknown shortcut {type(shortcut).__name__}")


def block_forward(block: CausalBasicBlock, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(middle, output) of a block: the middle activation is kept so that the block can be widened later."""
    middle = block.relu(block.bn1(block.conv1(x)))
    return middle, block.relu(block.bn2(block.conv2(middle)) + block.shortcut(x))


def block_widen(block: CausalBasicBlock, x: torch.Tensor, x_new: torch.Tensor, middle: torch.Tensor, output: torch.Tensor,
                old: int, new: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(middle, output) at width `new` from those at width `old`; `x` is the block input at width `new`."""
    channels = block.conv1.out_group_channels
    start = old * channels
    middle_new = F.relu(batchnorm_channels(block.bn1, conv_new_groups(block.conv1, x, old, new), start))
    middle = torch.cat([middle, middle_new], dim=1)
    residual = batchnorm_channels(block.bn2, conv_new_groups(block.conv2, middle, old, new), start)
    output_new = F.relu(residual + shortcut_new_groups(block.shortcut, x_new, x, old, new, channels))
    return middle, torch.cat([output, output_new], dim=1)
