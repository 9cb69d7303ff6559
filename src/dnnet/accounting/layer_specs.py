"""The layers of one cell, as plain shapes: the input of every counting rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dnnet.config import NetConfig


@dataclass(frozen=True)
class ConvSpec:
    """One convolution of a cell, restricted to the cell's first `width` groups."""

    in_group_channels: int  # with shared_input: all input channels, seen by every group
    out_group_channels: int
    width: int  # groups kept
    kernel_size: int
    stride: int
    in_size: int  # square input side
    shared_input: bool
    causal: bool

    @property
    def out_size(self) -> int:
        padding = self.kernel_size // 2
        return (self.in_size + 2 * padding - self.kernel_size) // self.stride + 1

    @property
    def in_channels(self) -> int:
        return self.in_group_channels if self.shared_input else self.in_group_channels * self.width

    @property
    def out_channels(self) -> int:
        return self.out_group_channels * self.width


@dataclass(frozen=True)
class BlockSpec:
    """A residual block: the convolutions of its main path in order (a basic block's two 3x3, a bottleneck's 1x1, 3x3
    and 1x1) and its shortcut ("identity", "pad" or a projection)."""

    convs: tuple[ConvSpec, ...]
    shortcut: str
    projection: ConvSpec | None  # the 1x1 convolution when shortcut == "project"

    @property
    def output(self) -> ConvSpec:
        """The main path's last convolution, whose output the shortcut is added to."""
        return self.convs[-1]


def stem_spec(config: NetConfig, width: int) -> ConvSpec:
    """The stem's convolution (the ImageNet stem's max pool follows it: `NetConfig.stem_size`)."""
    kernel, stride = (7, 2) if config.stem == "imagenet" else (3, 1)
    return ConvSpec(config.in_channels, config.group_channels[0], width, kernel, stride, config.image_size, True, config.causal)


def block_specs(config: NetConfig, depth: int, width: int) -> Iterator[BlockSpec]:
    """The residual blocks run by cell (depth, width), in order."""
    for plan in config.blocks(depth):
        in_gc, out_gc, stride, size = plan.in_group_channels, plan.out_group_channels, plan.stride, plan.in_size
        if plan.kind == "bottleneck":  # the stride on the 3x3 convolution
            mid_gc = plan.mid_group_channels
            reduce = ConvSpec(in_gc, mid_gc, width, 1, 1, size, False, config.causal)
            middle = ConvSpec(mid_gc, mid_gc, width, 3, stride, size, False, config.causal)
            convs = (reduce, middle, ConvSpec(mid_gc, out_gc, width, 1, 1, middle.out_size, False, config.causal))
        else:
            conv1 = ConvSpec(in_gc, out_gc, width, 3, stride, size, False, config.causal)
            convs = (conv1, ConvSpec(out_gc, out_gc, width, 3, 1, conv1.out_size, False, config.causal))
        projection = ConvSpec(in_gc, out_gc, width, 1, stride, size, False, config.causal) if plan.shortcut == "project" else None
        yield BlockSpec(convs, plan.shortcut, projection)


def exit_channels(config: NetConfig, depth: int, width: int) -> int:
    """Channels that the exit classifier of cell (depth, width) pools."""
    return config.exit_group_channels(depth) * width


def cell_convs(config: NetConfig, depth: int, width: int) -> list[ConvSpec]:
    """Every convolution of the cell, stem first."""
    convs = [stem_spec(config, width)]
    for block in block_specs(config, depth, width):
        convs += [*block.convs] + ([block.projection] if block.projection else [])
    return convs
