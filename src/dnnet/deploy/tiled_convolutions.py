"""A folded causal sub-network whose convolutions skip their zero blocks: each is split into a few output-group tiles,
each tile convolving only the input groups it sees.

A sliced cell stores every causal convolution as one dense convolution whose weight is zero above the block diagonal
(output group i sees input groups 1..i), so it computes about twice the MACs it needs. With T tiles, output groups
a+1..b read input groups 1..b only: T = the width gives exactly the needed MACs, fewer tiles fewer and larger
convolutions. The numbers are the dense convolution's (the skipped products are zeros), to float rounding.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.errors import UserError
from dnnet.layers.chunked_convolution import chunk_bounds
from dnnet.slicing import SubNet


class TiledCausalConv2d(nn.Module):
    """`conv`'s output groups in `tiles` contiguous ranges, each over the input groups 1..(its last group)."""

    def __init__(self, conv: nn.Conv2d, in_group_channels: int, out_group_channels: int, width: int, tiles: int) -> None:
        super().__init__()
        self.stride, self.padding = conv.stride, conv.padding
        bounds = tile_bounds(width, tiles)
        self.input_channels = [last * in_group_channels for _, last in bounds]
        weight, bias = conv.weight.detach(), conv.bias.detach() if conv.bias is not None else torch.zeros(conv.out_channels)
        rows = [slice(first * out_group_channels, last * out_group_channels) for first, last in bounds]
        self.weights = nn.ParameterList(nn.Parameter(weight[r, :inputs].clone(), requires_grad=False)
                                        for r, inputs in zip(rows, self.input_channels))
        self.biases = nn.ParameterList(nn.Parameter(bias[r].clone(), requires_grad=False) for r in rows)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.conv2d(x[:, :inputs], weight, bias, self.stride, self.padding)
                          for inputs, weight, bias in zip(self.input_channels, self.weights, self.biases)], dim=1)


def tile_bounds(width: int, tiles: int) -> list[tuple[int, int]]:
    """`tiles` contiguous ranges (first, last) of groups 0..width, as equal as they can be: (0, 2), (2, 4) for 4 in 2."""
    if not 1 <= tiles <= width:
        raise UserError(f"tiles must be between 1 and the cell's width {width}, got {tiles}")
    edges = chunk_bounds(width, tiles)  # the chunks the training-time convolution runs in (`ChannelCausalConv2d.chunks`)
    return list(zip(edges[:-1], edges[1:]))


@torch.no_grad()
def tile_convolutions(folded: SubNet, tiles: int) -> SubNet:
    """A copy of a batch-norm-folded causal `folded` (see `fold_batchnorm`) with every block convolution tiled (the
    stem's groups all see the image: nothing to skip). `tiles` is capped at the cell's width."""
    if not folded.config.causal:
        raise UserError("only a channel-causal network has zero blocks to skip; a dense network's slice is already dense")
    tiled = copy.deepcopy(folded).eval()
    tiles = min(tiles, folded.width)
    for plan, block in zip(folded.config.blocks(folded.depth), tiled.blocks):
        for (conv, _), (in_gc, out_gc) in zip(block.CONV_BN_PAIRS, plan.conv_group_channels):
            setattr(block, conv, TiledCausalConv2d(getattr(block, conv), in_gc, out_gc, folded.width, tiles))
        if isinstance(block.shortcut, nn.Conv2d):  # a folded projection shortcut is causal too
            block.shortcut = TiledCausalConv2d(block.shortcut, plan.in_group_channels, plan.out_group_channels, folded.width, tiles)
    return tiled
