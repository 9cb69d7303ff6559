"""The paper's network, small ones for CPU work, and the conventional comparators of each.

Every preset takes `groups`: fewer groups give the same architecture with fewer channels (the
separately trained narrow networks of the paper's "full training" baseline).
"""

from __future__ import annotations

from typing import Any

from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.models.dnnet import DNNet
from dnnet.models.registry import register_model


@register_model
def dnnet_resnet32_g22(groups: int = 22, **kwargs: Any) -> DNNet:
    """The paper's DNNet: ResNet-32, 22 groups of 1/2/4 channels (22/44/88), 16 x 22 cells."""
    return DNNet(NetConfig(blocks_per_stage=5, groups=groups, group_channels=(1, 2, 4), **kwargs))


@register_model
def dnnet_resnet20_g8(groups: int = 8, **kwargs: Any) -> DNNet:
    """ResNet-20, 8 groups of 1/2/4 channels (8/16/32): 10 x 8 cells, for CPU work."""
    return DNNet(NetConfig(blocks_per_stage=3, groups=groups, group_channels=(1, 2, 4), **kwargs))


@register_model
def dnnet_resnet8_g4(groups: int = 4, **kwargs: Any) -> DNNet:
    """ResNet-8, 4 groups of 1/2/4 channels (4/8/16): 4 x 4 cells, for tests and demos."""
    return DNNet(NetConfig(blocks_per_stage=1, groups=groups, group_channels=(1, 2, 4), **kwargs))


@register_model
def resnet32(width_multiplier: float = 1.0, groups: int | None = None, **kwargs: Any) -> DNNet:
    """Plain ResNet-32 (16/32/64 channels times `width_multiplier`), one classifier at the end.

    Dense convolutions, so its width slices are the paper's brute-force slicing; it is held
    in groups of 1/2/4 channels only so that those slices can be taken. A single linear layer
    over all channels equals the sum of per-group linear layers, so the head is the usual one.
    """
    return DNNet(_plain_config(5, groups or _groups_of(width_multiplier), exits="last", **kwargs))


@register_model
def resnet32_anytime(width_multiplier: float = 1.0, groups: int | None = None, **kwargs: Any) -> DNNet:
    """Depth-only anytime ResNet-32: the plain network with a classifier after the stem and every block."""
    return DNNet(_plain_config(5, groups or _groups_of(width_multiplier), exits="all", **kwargs))


@register_model
def resnet20(groups: int = 8, **kwargs: Any) -> DNNet:
    """Plain ResNet-20 with the channels of `dnnet_resnet20_g8` (8/16/32), one classifier: its CPU comparator."""
    return DNNet(_plain_config(3, groups, exits="last", **kwargs))


@register_model
def resnet20_anytime(groups: int = 8, **kwargs: Any) -> DNNet:
    """Depth-only anytime ResNet-20 (8/16/32 channels), a classifier after the stem and every block."""
    return DNNet(_plain_config(3, groups, exits="all", **kwargs))


def _groups_of(width_multiplier: float) -> int:
    groups = 16 * width_multiplier
    if width_multiplier <= 0 or groups != int(groups):
        raise UserError(f"width_multiplier must make 16 * multiplier a positive integer, got {width_multiplier}")
    return int(groups)


def _plain_config(blocks_per_stage: int, groups: int, exits: str, **kwargs: Any) -> NetConfig:
    return NetConfig(blocks_per_stage=blocks_per_stage, groups=groups, group_channels=(1, 2, 4), causal=False,
                     exits=exits, **kwargs)
