"""Fold batch norm into the preceding convolution of a standalone sub-network (for inference)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from dnnet.slicing.subnet import SubNet


@torch.no_grad()
def fold_batchnorm(subnet: SubNet) -> SubNet:
    """A copy of `subnet` in which every conv + BN pair is one biased conv and BN is Identity.

    Uses the running statistics, so it equals `subnet.eval()`, to float32 rounding.
    """
    folded = copy.deepcopy(subnet).eval()
    folded.stem, folded.stem_bn = _fold(folded.stem, folded.stem_bn), nn.Identity()
    for block in folded.blocks:
        for conv, bn in block.CONV_BN_PAIRS:
            setattr(block, conv, _fold(getattr(block, conv), getattr(block, bn)))
            setattr(block, bn, nn.Identity())
        if isinstance(block.shortcut, nn.Sequential):
            block.shortcut = _fold(block.shortcut[0], block.shortcut[1])
    return folded


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    fused.to(conv.weight)
    fused.weight.copy_(conv.weight * scale[:, None, None, None])
    conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.copy_((conv_bias - bn.running_mean) * scale + bn.bias)
    return fused
