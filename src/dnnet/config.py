"""The architecture of a (doubly nested) ResNet, as one frozen dataclass: the CIFAR family (a 3x3 stem, basic blocks)
and the ImageNet family (a 7x7 stride-2 stem with a max pool, basic or bottleneck blocks), any number of stages.

Everything else - the model, the sliced sub-networks, the resource accounting - is a
function of a `NetConfig`, so a config plus a (depth, width) cell names a sub-network exactly.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from dnnet.errors import UserError
from dnnet.utils.strict_fields import from_known_fields

# the preset every command starts from when none is named (train, demo, profile): the one with shipped weights
DEFAULT_PRESET = "dnnet_resnet20_g8"
SHORTCUTS = ("pad", "project")
BLOCK_SHORTCUTS = ("identity", "pad", "project")
HEAD_REDUCTIONS = ("sum", "mean")
EXIT_PLACEMENTS = ("all", "last")
STEMS = ("cifar", "imagenet")
BLOCK_KINDS = ("basic", "bottleneck")
BOTTLENECK_EXPANSION = 4  # a bottleneck block's output has 4x the channels of its 3x3 convolution


class Cell(NamedTuple):
    """A sub-network of the grid: exit `depth` (1..num_exits) at `width` groups (1..groups); equal to the tuple (depth, width)."""

    depth: int
    width: int


@dataclass(frozen=True)
class BlockPlan:
    """One residual block as every consumer builds it: the network, its fixed-size slices, the
    resource accounting and the anytime runner. Channels are per group; sizes are square sides."""

    index: int  # 1..num_blocks; the stem is block 0
    in_group_channels: int
    out_group_channels: int
    stride: int  # of the block's 3x3 convolution (the first of a basic block, the second of a bottleneck) and its shortcut
    shortcut: str  # one of BLOCK_SHORTCUTS: "identity" when the shapes match, else the config's rule
    in_size: int  # side of the block's input for an image of `image_size`
    kind: str = "basic"  # one of BLOCK_KINDS
    mid_group_channels: int = 0  # a bottleneck's channels per group inside (its 1x1 and 3x3 convolutions' outputs)

    def __post_init__(self) -> None:
        if self.kind == "bottleneck" and self.mid_group_channels < 1:
            raise ValueError(f"a bottleneck block needs mid_group_channels >= 1, got {self.mid_group_channels}")

    @property
    def conv_group_channels(self) -> tuple[tuple[int, int], ...]:
        """(in, out) channels per group of each convolution of the block's main path, in order."""
        if self.kind == "bottleneck":
            mid = self.mid_group_channels
            return ((self.in_group_channels, mid), (mid, mid), (mid, self.out_group_channels))
        return ((self.in_group_channels, self.out_group_channels), (self.out_group_channels, self.out_group_channels))

    @property
    def out_size(self) -> int:
        """Side of the block's output (3x3 convolution, padding 1)."""
        return (self.in_size - 1) // self.stride + 1


@dataclass(frozen=True)
class NetConfig:
    """A ResNet whose channels come in `groups` equal groups (default: the 6n+2-layer CIFAR ResNet, 3 stages).

    Width w (1..groups) keeps the first w groups of every layer; depth d (1..num_exits)
    keeps the layers up to the d-th exit.
    """

    # blocks in each stage: one number for every stage (n of the 6n+2 CIFAR ResNet: 5 gives ResNet-32), or one per stage
    blocks_per_stage: int | tuple[int, ...] = 5
    groups: int = 22  # G: channel groups, so G widths; the paper uses 22
    # channels per group in each stage (the stem has the first stage's); a bottleneck's inner ones, its output 4x as many
    group_channels: tuple[int, ...] = (1, 2, 4)
    in_channels: int = 3  # image channels; every group of the stem sees all of them
    num_classes: int = 10
    image_size: int = 32  # square input side, used only by the resource accounting
    causal: bool = True  # False gives dense convolutions: width slicing is then brute force
    shortcut: str = "pad"  # "pad": zero-pad inside each group; "project": causal 1x1 conv + BN
    head_reduction: str = "sum"  # "sum" as the paper's formula Z = sum_k W_k f_k; "mean" as its text
    cell_heads: bool = False  # every width its own classifier at each exit, instead of the paper's per-group classifiers
    # summed over widths (those tie the full network's classifier to every narrower cell's); a cell's resources are the same
    exits: str = "all"  # "all": after the stem and every block; "last": after the final block only
    # every batch norm with a scale, shift and running statistics per width (adaptive conditioning, the paper's future
    # work): the widths are then no longer nested in one pass, so training runs each width and the runner cannot widen
    width_conditioning: bool = False
    stem: str = "cifar"  # "cifar": 3x3 stride 1; "imagenet": 7x7 stride 2, then a 3x3 stride-2 max pool
    block: str = "basic"  # "basic": two 3x3 convolutions; "bottleneck": 1x1, 3x3 (the stride), 1x1 to 4x the channels

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_channels", _integers("group_channels", self.group_channels, "one per stage"))
        if not isinstance(self.blocks_per_stage, numbers.Integral) or isinstance(self.blocks_per_stage, bool):
            per_stage = _integers("blocks_per_stage", self.blocks_per_stage, "one number, or one per stage")
            if len(per_stage) != len(self.group_channels):
                raise UserError(f"blocks_per_stage gives {len(per_stage)} stages and group_channels "
                                f"{len(self.group_channels)}: give one of each per stage")
            object.__setattr__(self, "blocks_per_stage", per_stage)
        for name in ("causal", "cell_heads", "width_conditioning"):
            if not isinstance(getattr(self, name), bool):
                raise UserError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for blocks in self.stage_blocks:
            _check_positive("blocks_per_stage", blocks)
        _check_positive("groups", self.groups)
        _check_positive("in_channels", self.in_channels)
        _check_positive("num_classes", self.num_classes)
        _check_positive("image_size", self.image_size)
        if not self.group_channels or min(self.group_channels) < 1:
            raise UserError(f"group_channels must be positive integers (one per stage), got {self.group_channels}")
        _check_choice("shortcut", self.shortcut, SHORTCUTS)
        _check_choice("stem", self.stem, STEMS)
        _check_choice("block", self.block, BLOCK_KINDS)
        if self.shortcut == "pad" and list(self.group_channels) != sorted(self.group_channels):
            raise UserError(f"shortcut='pad' cannot shrink a group: group_channels must not decrease, got {self.group_channels}; "
                            f"use shortcut='project'")
        _check_choice("head_reduction", self.head_reduction, HEAD_REDUCTIONS)
        _check_choice("exits", self.exits, EXIT_PLACEMENTS)
        if self.width_conditioning and not self.causal:
            raise UserError("width_conditioning needs a channel-causal network: a dense network offers its full width only")

    @classmethod
    def from_channels(cls, stage_channels: tuple[int, ...], groups: int, **kwargs: Any) -> NetConfig:
        """Builds a config from total channels per stage, e.g. (22, 44, 88) with 22 groups (a bottleneck's inner ones)."""
        if not stage_channels:
            raise UserError(f"stage_channels must give at least one stage, got {stage_channels}")
        _check_positive("groups", groups)
        for stage, channels in enumerate(stage_channels, start=1):
            if channels % groups:
                raise UserError(
                    f"groups={groups} does not divide the {channels} channels of stage {stage}; "
                    f"choose a group count that divides every stage's width {tuple(stage_channels)}"
                )
        return cls(groups=groups, group_channels=tuple(c // groups for c in stage_channels), **kwargs)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NetConfig:
        """Inverse of `to_dict`; unknown keys are an error, not silently dropped."""
        return from_known_fields(cls, values)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["group_channels"] = list(self.group_channels)
        if isinstance(self.blocks_per_stage, tuple):
            values["blocks_per_stage"] = list(self.blocks_per_stage)
        # unset at their defaults, as before the settings existed: older versions read the file too
        for name, default in (("width_conditioning", False), ("stem", "cifar"), ("block", "basic")):
            if values[name] == default:
                del values[name]
        return values

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(exits, widths): the shape of every per-cell table (accuracy, latency)."""
        return (self.num_exits, self.groups)

    @property
    def nested_widths(self) -> bool:
        """Whether the first w groups of one full-width pass are the width-w sub-network (channel causality, no width
        conditioning): then one pass computes every cell, and a computed cell can be widened."""
        return self.causal and not self.width_conditioning

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Channels of each stage's output (a bottleneck's 4x its inner ones)."""
        return tuple(self.groups * self.stage_out_group_channels(stage) for stage in range(len(self.group_channels)))

    @property
    def stage_blocks(self) -> tuple[int, ...]:
        """Blocks in each stage."""
        if isinstance(self.blocks_per_stage, tuple):
            return self.blocks_per_stage
        return (self.blocks_per_stage,) * len(self.group_channels)

    def stage_out_group_channels(self, stage: int) -> int:
        """Channels per group of the output of stage `stage` (0-based) and of each of its blocks."""
        return self.group_channels[stage] * (BOTTLENECK_EXPANSION if self.block == "bottleneck" else 1)

    @property
    def stem_size(self) -> int:
        """Side of the stem's output (after its max pool in the ImageNet stem) for an image of `image_size`."""
        if self.stem == "cifar":
            return self.image_size
        after_conv = (self.image_size - 1) // 2 + 1  # 7x7, stride 2, padding 3
        return (after_conv - 1) // 2 + 1  # 3x3 max pool, stride 2, padding 1

    @property
    def num_blocks(self) -> int:
        return sum(self.stage_blocks)

    @property
    def num_layers(self) -> int:
        """The "32" of ResNet-32 and the "50" of ResNet-50: stem + the convolutions of every block + classifier."""
        return (3 if self.block == "bottleneck" else 2) * self.num_blocks + 2

    @property
    def exit_blocks(self) -> tuple[int, ...]:
        """Block index after which each exit sits; 0 is the stem."""
        if self.exits == "all":
            return tuple(range(self.num_blocks + 1))
        return (self.num_blocks,)

    @property
    def num_exits(self) -> int:
        return len(self.exit_blocks)

    def blocks(self, depth: int | None = None) -> tuple[BlockPlan, ...]:
        """The residual blocks that exit `depth` (default: the last) runs, in order.

        The only place where the stage layout is derived: a block that enters a new stage
        halves the resolution and changes the channels per group, and needs a shortcut.
        """
        last_block = self.num_blocks if depth is None else self.exit_blocks[depth - 1]
        plans, size, in_gc = [], self.stem_size, self.group_channels[0]
        for block in range(1, last_block + 1):
            stage = self._stage(block)
            out_gc = self.stage_out_group_channels(stage)
            stride = 2 if stage != self._stage(block - 1) else 1
            shortcut = "identity" if stride == 1 and in_gc == out_gc else self.shortcut
            plans.append(BlockPlan(block, in_gc, out_gc, stride, shortcut, size, self.block, self.group_channels[stage]))
            size, in_gc = plans[-1].out_size, out_gc
        return tuple(plans)

    def exit_group_channels(self, depth: int) -> int:
        """Channels per group of the feature map that exit `depth` classifies."""
        block = self.exit_blocks[depth - 1]
        return self.group_channels[0] if block == 0 else self.stage_out_group_channels(self._stage(block))

    def _stage(self, block: int) -> int:
        # the stem (block 0) belongs to stage 0, so its output feeds the first stage unchanged
        block, stage = max(block, 1), 0
        while block > self.stage_blocks[stage]:
            block, stage = block - self.stage_blocks[stage], stage + 1
        return stage

    def check_cell(self, depth: int, width: int) -> None:
        """Raises ValueError naming the valid range when (depth, width) is not a cell of the grid."""
        if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= self.num_exits:
            raise UserError(f"depth must be an integer in 1..{self.num_exits} (the exits), got {depth!r}")
        if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= self.groups:
            raise UserError(f"width must be an integer in 1..{self.groups} (the channel groups), got {width!r}")


# how a cell is written in and out: DEPTHxWIDTH, safe to paste into a shell (the paper's D14&W12 is not)
CELL_SPELLING = "DEPTHxWIDTH, e.g. 14x12 (exit 14, width 12)"
_CELL_PATTERN = re.compile(r"(\d+)x(\d+)|d(\d+)(?:&|_)?w(\d+)")


def cell_name(depth: int, width: int) -> str:
    """The printed name of cell (depth, width): '14x12' for exit 14 at width 12 (the paper writes D14&W12)."""
    return f"{depth}x{width}"


def parse_cell(text: str) -> tuple[int, int]:
    """'14x12' -> (14, 12); the paper's 'D14&W12' (and 'D14W12', 'D14_W12' of exported file names) are read too."""
    match = _CELL_PATTERN.fullmatch(text.strip().lower())
    if match is None:
        raise UserError(f"a cell is written {CELL_SPELLING}; got {text!r}")
    depth, width = (int(g) for g in match.groups() if g is not None)
    return depth, width


def _integers(name: str, values: Any, what: str) -> tuple[int, ...]:
    """`values` as a tuple of ints, or a UserError naming `name` (bools, strings and floats are not integers here)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise UserError(f"{name} must be positive integers ({what}), got {values!r}")
    return tuple(int(v) for v in values)


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"{name} must be a positive integer, got {value!r}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be one of {choices}, got {value!r}")
