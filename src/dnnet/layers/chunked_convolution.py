"""A block-lower-triangular convolution run as a few row chunks, each over only the input groups it can see.

The masked dense convolution computes every output from every input and multiplies half the products by zero. Split
the output groups into k consecutive chunks: chunk j only needs the inputs up to its last group, so it is one dense
convolution of its rows over that input prefix (the mask still zeroes the blocks above the diagonal inside it). With k
equal chunks the executed MACs are (k + 1) / 2k of the dense ones (k=2: 0.75, k=4: 0.625), in k convolutions and one
concatenation; the sums per output are the same products in the same convolution, so outputs agree with the dense
path to float rounding, and the gradient of every masked weight is exactly zero (either multiplied by the mask or
outside every chunk's prefix).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def chunk_bounds(width: int, chunks: int) -> list[int]:
    """Group boundaries of `chunks` near-equal chunks of `width` groups: [0, ..., width], at most `width` chunks."""
    chunks = max(1, min(chunks, width))
    return [round(width * j / chunks) for j in range(chunks + 1)]


def chunked_causal_conv2d(x: torch.Tensor, masked_weight: torch.Tensor, in_group_channels: int, out_group_channels: int,
                          bounds: list[int], stride: int, padding: int) -> torch.Tensor:
    """The convolution of `x` by the block-lower-triangular `masked_weight`, one dense convolution per chunk of output
    groups [bounds[j], bounds[j + 1]) over the input groups [0, bounds[j + 1])."""
    if len(bounds) == 2:
        return F.conv2d(x, masked_weight, stride=stride, padding=padding)
    outputs = []
    for first, end in zip(bounds[:-1], bounds[1:]):
        rows = masked_weight[first * out_group_channels : end * out_group_channels, : end * in_group_channels]
        outputs.append(F.conv2d(x[:, : end * in_group_channels], rows, stride=stride, padding=padding))
    return torch.cat(outputs, dim=1)
