"""The architecture of a (doubly nested) CIFAR ResNet, as one frozen dataclass.

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
    stride: int  # of the block's first convolution and of its shortcut
    shortcut: str  # one of BLOCK_SHORTCUTS: "identity" when the shapes match, else the config's rule
    in_size: int  # side of the block's input for an image of `image_size`

    @property
    def out_size(self) -> int:
        """Side of the block's output (3x3 convolution, padding 1)."""
        return (self.in_size - 1) // self.stride + 1


@dataclass(frozen=True)
class NetConfig:
    """A 6n+2-layer CIFAR ResNet whose channels come in `groups` equal groups.

    Width w (1..groups) keeps the first w groups of every layer; depth d (1..num_exits)
    keeps the layers up to the d-th exit.
    """

    blocks_per_stage: int = 5  # n of the 6n+2 CIFAR ResNet: 5 gives ResNet-32 (3 stages x 5 blocks)
    groups: int = 22  # G: channel groups, so G widths; the paper uses 22
    group_channels: tuple[int, int, int] = (1, 2, 4)  # channels per group in stages 1..3 (stem = stage 1)
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

    def __post_init__(self) -> None:
        channels = self.group_channels
        if isinstance(channels, (str, bytes)) or not hasattr(channels, "__iter__") or not all(
                isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in channels):
            raise UserError(f"group_channels must be 3 positive integers (one per stage), got {channels!r}")
        object.__setattr__(self, "group_channels", tuple(int(c) for c in channels))
        for name in ("causal", "cell_heads", "width_conditioning"):
            if not isinstance(getattr(self, name), bool):
                raise UserError(f"{name} must be true or false, got {getattr(self, name)!r}")
        _check_positive("blocks_per_stage", self.blocks_per_stage)
        _check_positive("groups", self.groups)
        _check_positive("in_channels", self.in_channels)
        _check_positive("num_classes", self.num_classes)
        _check_positive("image_size", self.image_size)
        if len(self.group_channels) != 3 or min(self.group_channels) < 1:
            raise UserError(f"group_channels must be 3 positive integers (one per stage), got {self.group_channels}")
        _check_choice("shortcut", self.shortcut, SHORTCUTS)
        if self.shortcut == "pad" and list(self.group_channels) != sorted(self.group_channels):
            raise UserError(f"shortcut='pad' cannot shrink a group: group_channels must not decrease, got {self.group_channels}; "
                            f"use shortcut='project'")
        _check_choice("head_reduction", self.head_reduction, HEAD_REDUCTIONS)
        _check_choice("exits", self.exits, EXIT_PLACEMENTS)
        if self.width_conditioning and not self.causal:
            raise UserError("width_conditioning needs a channel-causal network: a dense network offers its full width only")

    @classmethod
    def from_channels(cls, stage_channels: tuple[int, int, int], groups: int, **kwargs: Any) -> NetConfig:
        """Builds a config from total channels per stage, e.g. (22, 44, 88) with 22 groups."""
        if len(stage_channels) != 3:
            raise UserError(f"stage_channels must give 3 stages, got {stage_channels}")
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
        if not self.width_conditioning:  # unset, as before the setting existed: older versions read the file too
            del values["width_conditioning"]
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
    def stage_channels(self) -> tuple[int, int, int]:
        return tuple(self.groups * c for c in self.group_channels)

    @property
    def num_blocks(self) -> int:
        return 3 * self.blocks_per_stage

    @property
    def num_layers(self) -> int:
        """The "32" of ResNet-32: stem + 2 convolutions per block + classifier."""
        return 2 * self.num_blocks + 2

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
        plans, size = [], self.image_size
        for block in range(1, last_block + 1):
            in_gc, out_gc = self.group_channels[self._stage(block - 1)], self.group_channels[self._stage(block)]
            stride = 2 if self._stage(block) != self._stage(block - 1) else 1
            shortcut = "identity" if stride == 1 and in_gc == out_gc else self.shortcut
            plans.append(BlockPlan(block, in_gc, out_gc, stride, shortcut, size))
            size = plans[-1].out_size
        return tuple(plans)

    def exit_group_channels(self, depth: int) -> int:
        """Channels per group of the feature map that exit `depth` classifies."""
        return self.group_channels[self._stage(self.exit_blocks[depth - 1])]

    def _stage(self, block: int) -> int:
        # the stem (block 0) belongs to stage 0, so its output feeds the first stage unchanged
        return max(block - 1, 0) // self.blocks_per_stage

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


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"{name} must be a positive integer, got {value!r}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be one of {choices}, got {value!r}")
