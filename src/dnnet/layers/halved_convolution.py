"""A block-lower-triangular convolution run by recursive halving: few dense convolutions, close to the needed MACs.

Split the groups in two halves: the first half of the outputs is the causal convolution of the first half of the
inputs; the second half is the causal convolution of the second half plus one dense convolution from the first half of
the inputs (every block below the diagonal is allowed whole). Recursing `levels` times leaves 2^L masked diagonal
blocks and 2^L - 1 dense off-diagonal ones: (1/2 + 1/2^(L+1)) of the dense MACs (L=1: 0.75, L=2: 0.625); a top half
that is not split again runs in one convolution with the block below it (L=1: 2 convolutions, L=2: 5). Halves end on
group boundaries, so every block is either all allowed, all masked, or a diagonal block that keeps its mask; the
inputs are cut with `split` (whose backward concatenates), so no input gradient is a zero-filled full-size tensor (the
weight's slices still are: small ones). Outputs agree with the masked dense path to float rounding (each output sums
the same products in another order) and a masked weight's gradient is exactly zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def halved_causal_conv2d(x: torch.Tensor, masked_weight: torch.Tensor, in_group_channels: int, out_group_channels: int,
                         levels: int, stride: int, padding: int) -> torch.Tensor:
    """The convolution of `x` by the block-lower-triangular `masked_weight` over the groups `x` carries, halved
    `levels` times (a half of one group is not split again)."""
    groups = x.shape[1] // in_group_channels
    if levels == 0 or groups == 1:
        return F.conv2d(x, masked_weight, stride=stride, padding=padding)
    half = groups // 2
    first_in, second_in = x.split([half * in_group_channels, (groups - half) * in_group_channels], dim=1)
    out_cut, in_cut = half * out_group_channels, half * in_group_channels
    if levels == 1 or half == 1:  # the top half is one masked block: one convolution computes it and the one below
        top, below = F.conv2d(first_in, masked_weight[:, :in_cut], stride=stride, padding=padding).split(
            [out_cut, masked_weight.shape[0] - out_cut], dim=1)
    else:
        top = halved_causal_conv2d(first_in, masked_weight[:out_cut, :in_cut], in_group_channels, out_group_channels,
                                   levels - 1, stride, padding)
        below = F.conv2d(first_in, masked_weight[out_cut:, :in_cut], stride=stride, padding=padding)
    bottom = halved_causal_conv2d(second_in, masked_weight[out_cut:, in_cut:], in_group_channels, out_group_channels,
                                  levels - 1, stride, padding)
    return torch.cat([top, bottom + below], dim=1)
