"""The stem and a residual block of a folded network, computed one range of channel groups at a time.

The same wiring as `layers/causal_basic_block.py` - conv, relu, conv, plus the shortcut, relu - over
the runner's buffers (seen channel-first): each result is written straight into its rows of the next
activation, and the padding shortcut adds input group i into the first channels of output group i
in place instead of building the padded tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dnnet.anytime.kernels import ConvStep, GroupConv, UnfoldedInput, interior
from dnnet.config import BlockPlan


@dataclass(frozen=True)
class StemStep:
    """Groups old+1..new of the stem: conv, relu."""

    conv: ConvStep
    result: torch.Tensor  # the convolution's result shaped as the output's rows
    output: torch.Tensor  # the groups' rows inside the stem's output buffer

    def run(self) -> None:
        self.conv.run()
        torch.clamp_min(self.result, 0, out=self.output)


@dataclass(frozen=True)
class BlockStep:
    """Groups old+1..new of a residual block: conv1, relu, conv2, plus the shortcut, relu."""

    conv1: ConvStep
    hidden: torch.Tensor  # conv1's result shaped as the middle activation's rows
    middle: torch.Tensor  # the groups' rows inside the middle activation's buffer
    conv2: ConvStep
    residual: torch.Tensor  # conv2's result shaped as the output's rows
    projection: ConvStep | None
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
    """A residual block as two folded convolutions and the shortcut its `plan` names."""

    plan: BlockPlan
    conv1: GroupConv
    conv2: GroupConv
    projection: GroupConv | None  # the folded 1x1 convolution of a "project" shortcut

    def convs(self) -> list[GroupConv]:
        """Its convolutions in the order of their unfolded inputs: conv1, conv2, then the projection if any."""
        return [self.conv1, self.conv2] + ([] if self.projection is None else [self.projection])

    def step(self, source: torch.Tensor, middle: torch.Tensor, output: torch.Tensor, unfolded: list[UnfoldedInput | None],
             old: int, new: int, border: int) -> BlockStep:
        """The step over prepared views: `source`, `middle` and `output` are this block's activation buffers,
        `unfolded` its convolutions' kept unfolded inputs (conv1, conv2, projection), None to convolve directly."""
        rows = slice(old * self.plan.out_group_channels, new * self.plan.out_group_channels)
        conv1 = self.conv1.prepare(source, unfolded[0], border, old, new)
        conv2 = self.conv2.prepare(middle, unfolded[1], border, old, new)
        output_rows = interior(output, border)[rows]
        residual = conv2.result.view(output_rows.shape)
        own = interior(source, border)[old * self.plan.in_group_channels : new * self.plan.in_group_channels]
        projection, target, addend = None, residual, own  # identity: group i of the output adds group i of the input
        if self.projection is not None:
            projection = self.projection.prepare(source, unfolded[2], border, old, new)
            addend = projection.result.view(residual.shape)
        elif self.plan.shortcut == "pad":
            # option A: the first channels of each output group take the subsampled input group, the rest stay zero
            in_channels, stride = self.plan.in_group_channels, self.plan.stride
            target = residual.unflatten(0, (-1, self.plan.out_group_channels))[:, :in_channels]
            addend = own[:, :, ::stride, ::stride].unflatten(0, (-1, in_channels))
        middle_rows = interior(middle, border)[rows]
        return BlockStep(conv1, conv1.result.view(middle_rows.shape), middle_rows, conv2, residual, projection, target, addend,
                         output_rows)
