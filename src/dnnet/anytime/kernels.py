"""One folded causal convolution, computed one range of output channel groups at a time.

Activations are seen channel-first, (channels, N, H, W), with a zero border for the padding, so that a
group range is one slice of rows. In memory they are channel-first for unfolded products (a group range is
then one contiguous block, for any N) and batch-first for the library's convolution (which then reads its
input without a transposing copy; folded_network.py). A step computes output groups old+1..new from
input groups 1..new (exact for a channel-causal convolution) in one of two ways:

- `DirectConvStep`, the plain step: the library's convolution over the input's first groups.
- `UnfoldedConvStep`, an optimisation of it for small batches: at batch 1 on a CPU the library's
  convolution unfolds its whole input on every call (im2col), whatever the number of output
  channels, so a step adding one group would pay for every group again. The unfolded input is kept
  between steps instead, a widening step unfolds only the new input groups, and the step is one
  2-D matrix product, bias included. Both give the same numbers (tests/test_anytime.py runs both).

A step holds views into buffers prepared once, so running it again on the next batch is a handful
of operations without any slicing: per-call overhead, not arithmetic, is what a small step costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def interior(buffer: torch.Tensor, border: int) -> torch.Tensor:
    """The activation inside a (channels, N, H, W) buffer's zero border."""
    return buffer[:, :, border : buffer.shape[2] - border, border : buffer.shape[3] - border]


@dataclass(frozen=True)
class DirectConvStep:
    """Output groups old+1..new of one convolution, by the library's convolution."""

    source: torch.Tensor  # input groups 1..new with the border the padding needs, (N, channels, H, W): a view
    weight: torch.Tensor  # the groups' weights over the inputs they see
    bias: torch.Tensor
    stride: int
    result: torch.Tensor  # (rows, N * H * W), written by `run`
    result_batch_first: torch.Tensor  # the same memory seen as (N, rows, H, W)

    def run(self) -> torch.Tensor:
        self.result_batch_first.copy_(F.conv2d(self.source, self.weight, self.bias, self.stride))
        return self.result


@dataclass(frozen=True)
class UnfoldedInput:
    """A convolution's unfolded input, kept between steps, and the activation it unfolds."""

    columns: torch.Tensor  # (1 + in channels * k * k, N * H out * W out), the first row ones
    shaped: torch.Tensor  # the same rows after the first, as (in channels, k, k, N, H out, W out)
    patches: torch.Tensor  # the activation (with its zero border) as its patches, shaped alike: a strided view


@dataclass(frozen=True)
class UnfoldedConvStep:
    """Output groups old+1..new of one convolution: unfold the new input groups, then one product."""

    unfolded: torch.Tensor | None  # rows of the unfolded input to fill (None: nothing new to unfold)
    patches: torch.Tensor | None  # the input's patches that fill them (a strided view of the activation)
    matrix: torch.Tensor  # the groups' rows of [bias, weights] over the inputs they see
    columns: torch.Tensor  # [ones; the unfolded inputs they see], (1 + inputs * k * k, N * H * W)
    result: torch.Tensor  # (rows, N * H * W), written by `run`

    def run(self) -> torch.Tensor:
        if self.unfolded is not None:
            self.unfolded.copy_(self.patches)
        return torch.mm(self.matrix, self.columns, out=self.result)


ConvStep = DirectConvStep | UnfoldedConvStep


@dataclass(frozen=True)
class GroupConv:
    """A causal convolution with its batch norm folded in, computable group range by group range."""

    # (out channels, 1 + in channels * k * k): the bias, then the weights masked and scaled by the batch norm;
    # the unfolded input starts with a row of ones, so the bias costs no extra operation
    matrix: torch.Tensor
    kernel: int
    stride: int
    padding: int
    in_group_channels: int
    out_group_channels: int
    shared_input: bool  # every group sees the whole input (the stem sees the image)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, in_group_channels: int, out_group_channels: int, shared_input: bool = False) -> GroupConv:
        """`conv` (batch norm folded, so with a bias) as its [bias, weights] matrix."""
        weight = conv.weight.detach()
        matrix = torch.cat([conv.bias.detach()[:, None], weight.reshape(weight.shape[0], -1)], dim=1)
        return cls(matrix, weight.shape[-1], conv.stride[0], conv.padding[0], in_group_channels, out_group_channels, shared_input)

    def output_size(self, size: int) -> int:
        """Side of the output for an input side `size` (without the buffer's border)."""
        return (size + 2 * self.padding - self.kernel) // self.stride + 1

    def unfolded_input(self, source: torch.Tensor, border: int) -> UnfoldedInput:
        """A buffer for this layer's unfolded `source` (zero border `border` wide), and `source` seen as its patches."""
        height, width = (self.output_size(size - 2 * border) for size in source.shape[2:])
        columns = source.new_empty(self.matrix.shape[1], source.shape[1] * height * width)
        columns[0] = 1
        channels = (self.matrix.shape[1] - 1) // self.kernel**2
        shaped = columns[1:].view(channels, self.kernel, self.kernel, source.shape[1], height, width)
        start = source[:, :, border - self.padding :, border - self.padding :]
        channel, batch, row, column = start.stride()
        patches = start.as_strided(shaped.shape, (channel, row, column, batch, row * self.stride, column * self.stride))
        return UnfoldedInput(columns, shaped, patches)

    def prepare(self, source: torch.Tensor, unfolded: UnfoldedInput | None, border: int, old: int, new: int) -> ConvStep:
        """The step for groups old+1..new: over the kept unfolded input, or (None) by the library's convolution.
        `source` is the input's (channels, N, H, W) buffer with its zero border."""
        if unfolded is None:
            return self._direct_step(source, border, old, new)
        return self._unfolded_step(unfolded, old, new)

    def _output_rows(self, old: int, new: int) -> slice:
        return slice(old * self.out_group_channels, new * self.out_group_channels)

    def _direct_step(self, source: torch.Tensor, border: int, old: int, new: int) -> DirectConvStep:
        rows = self._output_rows(old, new)
        inputs = source.shape[0] if self.shared_input else new * self.in_group_channels
        k, offset, batch = self.kernel, border - self.padding, source.shape[1]
        height, width = (self.output_size(size - 2 * border) for size in source.shape[2:])
        # the border the padding needs is already in the buffer: the convolution itself pads nothing
        seen = source[:inputs, :, offset : source.shape[2] - offset, offset : source.shape[3] - offset].transpose(0, 1)
        weight = self.matrix[rows, 1 : 1 + inputs * k * k].reshape(-1, inputs, k, k).contiguous()
        result = source.new_empty(weight.shape[0], batch * height * width)
        return DirectConvStep(seen, weight, self.matrix[rows, 0].contiguous(), self.stride, result,
                              result.view(weight.shape[0], batch, height, width).transpose(0, 1))

    def _unfolded_step(self, unfolded: UnfoldedInput, old: int, new: int) -> UnfoldedConvStep:
        channels = unfolded.shaped.shape[0]
        if self.shared_input:  # the whole input, unfolded on the first step only
            inputs, fill = channels, slice(0, channels) if old == 0 else None
        else:
            inputs, fill = new * self.in_group_channels, slice(old * self.in_group_channels, new * self.in_group_channels)
        columns = unfolded.columns[: 1 + inputs * self.kernel**2]
        matrix = self.matrix[self._output_rows(old, new), : columns.shape[0]].contiguous()
        return UnfoldedConvStep(None if fill is None else unfolded.shaped[fill], None if fill is None else unfolded.patches[fill],
                                matrix, columns, columns.new_empty(matrix.shape[0], columns.shape[1]))
