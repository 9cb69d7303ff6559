"""The paper's network, small ones for CPU work, and the two conventional comparators."""

from __future__ import annotations

from typing import Any

from dnnet.config import NetConfig
from dnnet.models.dnnet import DNNet
from dnnet.models.registry import register_model


@register_model
def dnnet_resnet32_g22(**kwargs: Any) -> DNNet:
    """The paper's DNNet: ResNet-32, 22 groups of 1/2/4 channels (22/44/88), 16 x 22 cells."""
    return DNNet(NetConfig(blocks_per_stage=5, groups=22, group_channels=(1, 2, 4), **kwargs))


@register_model
def dnnet_resnet20_g8(**kwargs: Any) -> DNNet:
    """ResNet-20, 8 groups of 1/2/4 channels (8/16/32): 10 x 8 cells, for CPU work."""
    return DNNet(NetConfig(blocks_per_stage=3, groups=8, group_channels=(1, 2, 4), **kwargs))


@register_model
def dnnet_resnet8_g4(**kwargs: Any) -> DNNet:
    """ResNet-8, 4 groups of 1/2/4 channels (4/8/16): 4 x 4 cells, for tests and demos."""
    return DNNet(NetConfig(blocks_per_stage=1, groups=4, group_channels=(1, 2, 4), **kwargs))


@register_model
def resnet32(width_multiplier: float = 1.0, **kwargs: Any) -> DNNet:
    """Plain ResNet-32 (16/32/64 channels times `width_multiplier`), one classifier at the end.

    Dense convolutions, so its width slices are the paper's brute-force slicing; it is held
    in groups of 1/2/4 channels only so that those slices can be taken. A single linear layer
    over all channels equals the sum of per-group linear layers, so the head is the usual one.
    """
    return DNNet(_plain_config(width_multiplier, exits="last", **kwargs))


@register_model
def resnet32_anytime(width_multiplier: float = 1.0, **kwargs: Any) -> DNNet:
    """Depth-only anytime ResNet-32: the plain network with a classifier after the stem and every block."""
    return DNNet(_plain_config(width_multiplier, exits="all", **kwargs))


def _plain_config(width_multiplier: float, exits: str, **kwargs: Any) -> NetConfig:
    groups = 16 * width_multiplier
    if width_multiplier <= 0 or groups != int(groups):
        raise ValueError(f"width_multiplier must make 16 * multiplier a positive integer, got {width_multiplier}")
    return NetConfig(blocks_per_stage=5, groups=int(groups), group_channels=(1, 2, 4), causal=False, exits=exits, **kwargs)
