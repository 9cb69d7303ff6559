"""Folded layers of a causal network, computed one range of channel groups at a time.

Each convolution is a matrix product over its unfolded input (im2col). At batch 1 on a CPU the
library's convolution unfolds its whole input on every call, whatever the number of output channels,
so a step adding one group would pay for every group again; here a layer keeps its unfolded input
between steps and a widening step unfolds only the new input groups. Activations are channel-first,
(channels, N, H, W), with a zero border for the padding: a group range is one contiguous block and
every product is one 2-D matrix multiply, for any N. Large batches call the library's convolution
instead (`DirectConvStep`), where it is faster.

A step (`ConvStep`, `BlockStep`) holds views into the buffers prepared once, so running it again on
the next batch is a handful of operations without any slicing: per-call overhead, not arithmetic,
is what a small step costs.
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
class UnfoldedInput:
    """A convolution's unfolded input, kept between steps, and the activation it unfolds."""

    columns: torch.Tensor  # (1 + in channels * k * k, N * H out * W out), the first row ones
    shaped: torch.Tensor  # the same rows after the first, as (in channels, k, k, N, H out, W out)
    patches: torch.Tensor  # the activation (with its zero border) as its patches, shaped alike: a strided view


@dataclass(frozen=True)
class ConvStep:
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


@dataclass(frozen=True)
class DirectConvStep:
    """Output groups old+1..new of one convolution, by the library's convolution (faster for large batches)."""

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
        weight = conv.weight.detach()
        matrix = torch.cat([conv.bias.detach()[:, None], weight.reshape(weight.shape[0], -1)], dim=1)
        return cls(matrix, weight.shape[-1], conv.stride[0], conv.padding[0], in_group_channels, out_group_channels, shared_input)

    def output_size(self, size: int) -> int:
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

    def step(self, unfolded: UnfoldedInput, old: int, new: int) -> ConvStep:
        rows = slice(old * self.out_group_channels, new * self.out_group_channels)
        channels = unfolded.shaped.shape[0]
        if self.shared_input:  # the whole input, unfolded on the first step only
            inputs, fill = channels, slice(0, channels) if old == 0 else None
        else:
            inputs, fill = new * self.in_group_channels, slice(old * self.in_group_channels, new * self.in_group_channels)
        columns = unfolded.columns[: 1 + inputs * self.kernel**2]
        matrix = self.matrix[rows, : columns.shape[0]].contiguous()
        return ConvStep(None if fill is None else unfolded.shaped[fill], None if fill is None else unfolded.patches[fill],
                        matrix, columns, columns.new_empty(matrix.shape[0], columns.shape[1]))

    def direct_step(self, source: torch.Tensor, border: int, old: int, new: int) -> DirectConvStep:
        """The step without unfolding: `source` is the input's (channels, N, H, W) buffer with its zero border."""
        rows = slice(old * self.out_group_channels, new * self.out_group_channels)
        inputs = source.shape[0] if self.shared_input else new * self.in_group_channels
        k, offset, batch = self.kernel, border - self.padding, source.shape[1]
        height, width = (self.output_size(size - 2 * border) for size in source.shape[2:])
        # the border the padding needs is already in the buffer: the convolution itself pads nothing
        seen = source[:inputs, :, offset : source.shape[2] - offset, offset : source.shape[3] - offset].transpose(0, 1)
        weight = self.matrix[rows, 1 : 1 + inputs * k * k].reshape(-1, inputs, k, k).contiguous()
        result = source.new_empty(weight.shape[0], batch * height * width)
        return DirectConvStep(seen, weight, self.matrix[rows, 0].contiguous(), self.stride, result,
                              result.view(weight.shape[0], batch, height, width).transpose(0, 1))

    def prepare(self, source: torch.Tensor, unfolded: UnfoldedInput | None, border: int, old: int, new: int
                ) -> ConvStep | DirectConvStep:
        """The step for groups old+1..new: over the kept unfolded input, or (None) by the library's convolution."""
        return self.direct_step(source, border, old, new) if unfolded is None else self.step(unfolded, old, new)


@dataclass(frozen=True)
class StemStep:
    conv: ConvStep | DirectConvStep
    result: torch.Tensor  # the convolution's result shaped as the output's rows
    output: torch.Tensor  # the groups' rows inside the stem's output buffer

    def run(self) -> None:
        self.conv.run()
        torch.clamp_min(self.result, 0, out=self.output)


@dataclass(frozen=True)
class BlockStep:
    """Groups old+1..new of a residual block: conv1, relu, conv2, plus the shortcut, relu."""

    conv1: ConvStep | DirectConvStep
    hidden: torch.Tensor  # conv1's result shaped as the middle activation's rows
    middle: torch.Tensor  # the groups' rows inside the middle activation's buffer
    conv2: ConvStep | DirectConvStep
    residual: torch.Tensor  # conv2's result shaped as the output's rows
    projection: ConvStep | DirectConvStep | None
    shortcut_target: torch.Tensor  # where in the residual the shortcut adds
    shortcut: torch.Tensor  # what it adds
    output: torch.Tensor  # the groups' rows inside the output buffer

    def run(self) -> None:
        self.conv1.run()
        torch.clamp_min(self.hidden, 0, out=self.middle)
        self.conv2.run()
        if self.projection is not None:
            self.projection.run()
        self.shortcut_target.add_(self.shortcut)
        torch.clamp_min(self.residual, 0, out=self.output)


@dataclass(frozen=True)
class GroupBlock:
    """A residual block as two folded convolutions and its shortcut."""

    conv1: GroupConv
    conv2: GroupConv
    shortcut: nn.Module | GroupConv  # nn.Identity, GroupPadShortcut, or a folded projection

    def convs(self) -> list[GroupConv]:
        return [self.conv1, self.conv2] + ([self.shortcut] if isinstance(self.shortcut, GroupConv) else [])

    def step(self, source: torch.Tensor, middle: torch.Tensor, output: torch.Tensor, unfolded: list[UnfoldedInput | None],
             old: int, new: int, border: int) -> BlockStep:
        """The step over prepared views: `source`, `middle` and `output` are this block's activation buffers,
        `unfolded` its convolutions' kept unfolded inputs (conv1, conv2, projection), None to convolve directly."""
        c = self.conv1.out_group_channels
        rows = slice(old * c, new * c)
        conv1 = self.conv1.prepare(source, unfolded[0], border, old, new)
        conv2 = self.conv2.prepare(middle, unfolded[1], border, old, new)
        output_rows = interior(output, border)[rows]
        residual = conv2.result.view(output_rows.shape)
        own = interior(source, border)[old * self.conv1.in_group_channels : new * self.conv1.in_group_channels]
        projection, target, addend = None, residual, own  # identity: group i of the output adds group i of the input
        if isinstance(self.shortcut, GroupConv):
            projection = self.shortcut.prepare(source, unfolded[2], border, old, new)
            addend = projection.result.view(residual.shape)
        elif not isinstance(self.shortcut, nn.Identity):
            # option A: the first channels of each output group take the subsampled input group, the rest stay zero
            in_channels, stride = self.conv1.in_group_channels, self.shortcut.stride
            target = residual.unflatten(0, (-1, self.shortcut.out_group_channels))[:, :in_channels]
            addend = own[:, :, ::stride, ::stride].unflatten(0, (-1, in_channels))
        middle_rows = interior(middle, border)[rows]
        return BlockStep(conv1, conv1.result.view(middle_rows.shape), middle_rows, conv2, residual, projection, target, addend,
                         output_rows)
