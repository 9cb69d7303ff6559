"""The stem and a residual block of a folded network, computed one range of channel groups at a time.

The same wiring as `layers/causal_basic_block.py` and `causal_bottleneck_block.py` - conv, relu, conv (relu, conv),
plus the shortcut, relu - over the runner's buffers (seen channel-first): each result is written straight into its rows
of the next activation, and the padding shortcut adds input group i into the first channels of output group i in place
instead of building the padded tensor. The ImageNet stem's max pool reads its input's zero border as its padding: the
input is a ReLU's output, never below zero, so a zero pad never wins a window that holds a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dnnet.anytime.kernels import ConvStep, GroupConv, UnfoldedInput, interior
from dnnet.config import BlockPlan


@dataclass(frozen=True)
class StemStep:
    """Groups old+1..new of the stem: conv, relu (then the ImageNet stem's 3x3 stride-2 max pool)."""

    conv: ConvStep
    result: torch.Tensor  # the convolution's result shaped as the activated rows
    activated: torch.Tensor  # the groups' rows inside the buffer the relu writes (the pool's input, if any)
    pool_input: torch.Tensor | None  # those rows with a 1-pixel zero border: the pool's padding
    output: torch.Tensor  # the groups' rows inside the stem's output buffer

    def run(self) -> None:
        self.conv.run()
        torch.clamp_min(self.result, 0, out=self.activated)
        if self.pool_input is not None:  # pooled per (group row, image) plane: the (channels, N) layout needs no copy
            self.output.copy_(F.max_pool2d(self.pool_input, 3, 2))


@dataclass(frozen=True)
class InnerStep:
    """One convolution inside a block's main path and the relu that writes its activation."""

    conv: ConvStep
    result: torch.Tensor  # its result shaped as the activation's rows
    activated: torch.Tensor  # the groups' rows inside that activation's buffer

    def run(self) -> None:
        self.conv.run()
        torch.clamp_min(self.result, 0, out=self.activated)


@dataclass(frozen=True)
class BlockStep:
    """Groups old+1..new of a residual block: its inner convolutions and relus, the last convolution, plus the
    shortcut, relu."""

    inner: tuple[InnerStep, ...]
    last: ConvStep
    residual: torch.Tensor  # the last convolution's result shaped as the output's rows
    projection: ConvStep | None
    shortcut_target: torch.Tensor  # where in the residual the shortcut adds
    shortcut: torch.Tensor  # what it adds
    output: torch.Tensor  # the groups' rows inside the output buffer

    def run(self) -> None:
        for step in self.inner:
            step.run()
        self.last.run()
        if self.projection is not None:
            self.projection.run()
        self.shortcut_target.add_(self.shortcut)
        torch.clamp_min(self.residual, 0, out=self.output)


@dataclass(frozen=True)
class GroupBlock:
    """A residual block as its folded main-path convolutions (a basic block's two, a bottleneck's three) and the
    shortcut its `plan` names."""

    plan: BlockPlan
    main: tuple[GroupConv, ...]
    projection: GroupConv | None  # the folded 1x1 convolution of a "project" shortcut

    def convs(self) -> list[GroupConv]:
        """Its convolutions in the order of their unfolded inputs: the main path's, then the projection if any."""
        return [*self.main] + ([] if self.projection is None else [self.projection])

    def conv_inputs(self, source: torch.Tensor, middles: list[torch.Tensor]) -> list[torch.Tensor]:
        """The buffer each of `convs()` reads: the block's input, then each inner activation, the input again."""
        return [source, *middles] + ([] if self.projection is None else [source])

    def step(self, source: torch.Tensor, middles: list[torch.Tensor], output: torch.Tensor,
             unfolded: list[UnfoldedInput | None], old: int, new: int, border: int) -> BlockStep:
        """The step over prepared views: `source`, `middles` (one per inner convolution) and `output` are this block's
        activation buffers, `unfolded` its convolutions' kept unfolded inputs (in `convs()` order), None to convolve
        directly."""
        inputs = self.conv_inputs(source, middles)
        inner = []
        for index, (conv, middle) in enumerate(zip(self.main[:-1], middles)):
            prepared = conv.prepare(inputs[index], unfolded[index], border, old, new)
            rows = interior(middle, border)[old * conv.out_group_channels : new * conv.out_group_channels]
            inner.append(InnerStep(prepared, prepared.result.view(rows.shape), rows))
        last_index = len(self.main) - 1
        last = self.main[-1].prepare(inputs[last_index], unfolded[last_index], border, old, new)
        output_rows = interior(output, border)[old * self.plan.out_group_channels : new * self.plan.out_group_channels]
        residual = last.result.view(output_rows.shape)
        own = interior(source, border)[old * self.plan.in_group_channels : new * self.plan.in_group_channels]
        projection, target, addend = None, residual, own  # identity: group i of the output adds group i of the input
        if self.projection is not None:
            projection = self.projection.prepare(source, unfolded[-1], border, old, new)
            addend = projection.result.view(residual.shape)
        elif self.plan.shortcut == "pad":
            # option A: the first channels of each output group take the subsampled input group, the rest stay zero
            in_channels, stride = self.plan.in_group_channels, self.plan.stride
            target = residual.unflatten(0, (-1, self.plan.out_group_channels))[:, :in_channels]
            addend = own[:, :, ::stride, ::stride].unflatten(0, (-1, in_channels))
        return BlockStep(tuple(inner), last, residual, projection, target, addend, output_rows)
