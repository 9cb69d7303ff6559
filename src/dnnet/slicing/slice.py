"""Cut one cell out of a DNNet: a standalone `SubNet` holding only the weights it uses."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.layers import CausalBasicBlock, CausalBottleneckBlock, ChannelCausalConv2d, GroupExitHead, PrefixBatchNorm2d
from dnnet.models.dnnet import DNNet
from dnnet.slicing.subnet import SubNet, SubNetBlock, SubNetBottleneckBlock


@torch.no_grad()
def slice_subnet(model: DNNet, depth: int, width: int) -> SubNet:
    """Returns the sub-network at exit `depth` with the first `width` groups, as its own module.

    Weights are copied (masked blocks as zeros), so the result shares no storage with `model`.
    In eval mode its output equals `model.forward_all(x)[:, depth - 1, width - 1]`.
    """
    subnet = SubNet(model.config, depth, width).to(next(model.parameters()))
    _copy_conv(subnet.stem, model.stem, width)
    _copy_batchnorm(subnet.stem_bn, model.stem_bn)
    for fixed, sliceable in zip(subnet.blocks, model.blocks):
        _copy_block(fixed, sliceable, width)
    _copy_head(subnet.fc, model.heads[depth - 1], width)
    return subnet.train(model.training)


def _copy_block(fixed: SubNetBlock | SubNetBottleneckBlock, sliceable: CausalBasicBlock | CausalBottleneckBlock,
                width: int) -> None:
    for conv, bn in fixed.CONV_BN_PAIRS:  # the sliceable block names its layers the same
        _copy_conv(getattr(fixed, conv), getattr(sliceable, conv), width)
        _copy_batchnorm(getattr(fixed, bn), getattr(sliceable, bn))
    if isinstance(fixed.shortcut, nn.Sequential):  # the 1x1 projection; padding has no weights
        _copy_conv(fixed.shortcut[0], sliceable.shortcut.conv, width)
        _copy_batchnorm(fixed.shortcut[1], sliceable.shortcut.bn)


def _copy_conv(fixed: nn.Conv2d, sliceable: ChannelCausalConv2d, width: int) -> None:
    fixed.weight.copy_(sliceable.sliced_weight(width))


def _copy_batchnorm(fixed: nn.BatchNorm2d, sliceable: PrefixBatchNorm2d) -> None:
    mean, var, weight, bias = sliceable.cell_statistics(fixed.num_features)  # a conditioned layer's: the cell's width's
    fixed.weight.copy_(weight)
    fixed.bias.copy_(bias)
    fixed.running_mean.copy_(mean)
    fixed.running_var.copy_(var)
    fixed.num_batches_tracked.copy_(sliceable.num_batches_tracked)
    fixed.eps, fixed.momentum = sliceable.eps, sliceable.momentum


def _copy_head(fixed: nn.Linear, head: GroupExitHead, width: int) -> None:
    weight, bias = head.merged_linear(width)
    fixed.weight.copy_(weight)
    fixed.bias.copy_(bias)
