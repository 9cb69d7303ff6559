"""Channel-causal convolution: output group i is computed from input groups 1..i only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.layers.chunked_convolution import chunk_bounds, chunked_causal_conv2d
from dnnet.layers.halved_convolution import halved_causal_conv2d


def causal_mask(
    in_group_channels: int, out_group_channels: int, groups: int, shared_input: bool = False, causal: bool = True
) -> torch.Tensor:
    """Block-lower-triangular 0/1 mask of shape (out_channels, in_channels, 1, 1).

    With `shared_input` every output group sees all input channels (the stem sees all of RGB).
    With `causal=False` the mask is all ones: a dense convolution, kept sliceable by width.
    """
    in_channels = in_group_channels if shared_input else in_group_channels * groups
    out_group = torch.arange(out_group_channels * groups) // out_group_channels
    in_group = torch.zeros(in_channels, dtype=torch.long) if shared_input else torch.arange(in_channels) // in_group_channels
    allowed = in_group[None, :] <= out_group[:, None]
    if not causal:
        allowed = torch.ones_like(allowed)
    return allowed.float()[:, :, None, None]


class ChannelCausalConv2d(nn.Module):
    """A k x k convolution over `groups` channel groups with block-lower-triangular weights.

    Input groups have `in_group_channels` channels each and output groups `out_group_channels`,
    so the two may differ (1 channel per group in, 2 out at a stage change). The weight is stored
    dense and multiplied by a fixed mask, so the masked blocks never receive a gradient.

    `chunks` (default 1) runs the convolution as that many row chunks over their input prefixes (chunked_convolution.py):
    the same outputs to float rounding, fewer MACs; how a run executes, not what it computes (not in the state dict).
    `halvings` (default 0) runs it by recursive halving instead (halved_convolution.py); at most one of the two is set.
    """

    def __init__(
        self,
        in_group_channels: int,
        out_group_channels: int,
        groups: int,
        kernel_size: int = 3,
        stride: int = 1,
        shared_input: bool = False,
        causal: bool = True,
    ) -> None:
        super().__init__()
        self.in_group_channels = in_group_channels
        self.out_group_channels = out_group_channels
        self.groups = groups
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = kernel_size // 2
        self.shared_input = shared_input
        self.causal = causal
        in_channels = in_group_channels if shared_input else in_group_channels * groups
        self.weight = nn.Parameter(torch.empty(out_group_channels * groups, in_channels, kernel_size, kernel_size))
        # derived from the constructor arguments, so it is not part of the state dict
        self.register_buffer("mask", causal_mask(in_group_channels, out_group_channels, groups, shared_input, causal), persistent=False)
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        self._chunks = 1
        self._halvings = 0

    @property
    def chunks(self) -> int:
        """How many row chunks the convolution runs in (1: one masked dense convolution)."""
        return self._chunks

    @chunks.setter
    def chunks(self, chunks: int) -> None:
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
            raise ValueError(f"chunks must be a positive integer, got {chunks!r}")
        if chunks > 1 and self._halvings:
            raise ValueError("a causal convolution runs in row chunks or by halving, not both: set halvings to 0 first")
        self._chunks = chunks

    @property
    def halvings(self) -> int:
        """How many times the convolution's groups are halved (0: one masked dense convolution)."""
        return self._halvings

    @halvings.setter
    def halvings(self, halvings: int) -> None:
        if isinstance(halvings, bool) or not isinstance(halvings, int) or halvings < 0:
            raise ValueError(f"halvings must be a non-negative integer, got {halvings!r}")
        if halvings and self._chunks > 1:
            raise ValueError("a causal convolution runs in row chunks or by halving, not both: set chunks to 1 first")
        self._halvings = halvings

    def input_width(self, x: torch.Tensor) -> int:
        """Number of groups an input carries; a shared input (the image) serves every width."""
        channels = x.shape[1]
        if self.shared_input:
            if channels != self.in_group_channels:
                raise ValueError(f"expected {self.in_group_channels} input channels, got {channels} (input shape {tuple(x.shape)})")
            return self.groups
        if channels % self.in_group_channels or not 1 <= channels // self.in_group_channels <= self.groups:
            raise ValueError(
                f"expected a multiple of {self.in_group_channels} input channels, at most "
                f"{self.in_group_channels * self.groups}, got {channels}"
            )
        return channels // self.in_group_channels

    def sliced_weight(self, width: int) -> torch.Tensor:
        """Masked dense weight of the first `width` groups: what a standalone slice holds."""
        if width == self.groups:  # no slice: its backward would write a zero-filled full-size gradient first
            return self.weight * self.mask
        out_channels = width * self.out_group_channels
        in_channels = self.in_group_channels if self.shared_input else width * self.in_group_channels
        return self.weight[:out_channels, :in_channels] * self.mask[:out_channels, :in_channels]

    def forward(self, x: torch.Tensor, width: int | None = None) -> torch.Tensor:
        """Convolves the first `width` groups (default: as many as the input carries)."""
        available = self.input_width(x)
        width = available if width is None else width
        if not 1 <= width <= available:
            raise ValueError(f"width must be in 1..{available} for this input, got {width}")
        if not self.shared_input and width < available:
            x = x[:, : width * self.in_group_channels]
        # a shared input (the image) feeds every output group whole, and a dense layer's outputs see every input
        if self.shared_input or not self.causal or (self._chunks == 1 and not self._halvings):
            return F.conv2d(x, self.sliced_weight(width), stride=self.stride, padding=self.padding)
        if self._halvings:
            return halved_causal_conv2d(x, self.sliced_weight(width), self.in_group_channels, self.out_group_channels,
                                        self._halvings, self.stride, self.padding)
        return chunked_causal_conv2d(x, self.sliced_weight(width), self.in_group_channels, self.out_group_channels,
                                     chunk_bounds(width, self._chunks), self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_group_channels}->{self.out_group_channels} per group, groups={self.groups}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, shared_input={self.shared_input}, causal={self.causal}"
        )
