"""The paper's network, small ones for CPU work, the ImageNet-style ResNet-18 and ResNet-50, and the conventional
comparators of each.

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


# the ImageNet ResNets: the 7x7 stride-2 stem with its max pool, projection shortcuts (torchvision's), 224 px images
# (`image_size` only sizes the accounting: any input size runs); 8 groups of 8/16/32/64 channels make the stages' widths
# 64/128/256/512 (a bottleneck's inner ones; its outputs 4x as many), so every width is a multiple of 8 channels
IMAGENET = {"stem": "imagenet", "shortcut": "project", "image_size": 224}
IMAGENET_GROUP_CHANNELS = (8, 16, 32, 64)
RESNET18_BLOCKS, RESNET50_BLOCKS = (2, 2, 2, 2), (3, 4, 6, 3)


@register_model
def dnnet_resnet18_g8(groups: int = 8, **kwargs: Any) -> DNNet:
    """ImageNet-style ResNet-18, 8 groups (64/128/256/512 channels), basic blocks: 9 x 8 cells."""
    return DNNet(NetConfig(blocks_per_stage=RESNET18_BLOCKS, groups=groups, group_channels=IMAGENET_GROUP_CHANNELS,
                           **{**IMAGENET, **kwargs}))


@register_model
def dnnet_resnet50_g8(groups: int = 8, **kwargs: Any) -> DNNet:
    """ImageNet-style ResNet-50, 8 groups (256/512/1024/2048 channels out of bottleneck blocks): 17 x 8 cells."""
    return DNNet(NetConfig(blocks_per_stage=RESNET50_BLOCKS, groups=groups, group_channels=IMAGENET_GROUP_CHANNELS,
                           block="bottleneck", **{**IMAGENET, **kwargs}))


@register_model
def resnet18(groups: int = 8, **kwargs: Any) -> DNNet:
    """Plain ResNet-18 (torchvision's architecture at 8 groups and 1000 classes), one classifier: the dense comparator."""
    return DNNet(_imagenet_plain_config(RESNET18_BLOCKS, "basic", groups, "last", **kwargs))


@register_model
def resnet18_anytime(groups: int = 8, **kwargs: Any) -> DNNet:
    """Depth-only anytime ResNet-18: the plain network with a classifier after the stem and every block."""
    return DNNet(_imagenet_plain_config(RESNET18_BLOCKS, "basic", groups, "all", **kwargs))


@register_model
def resnet50(groups: int = 8, **kwargs: Any) -> DNNet:
    """Plain ResNet-50 (torchvision's architecture at 8 groups and 1000 classes), one classifier: the dense comparator."""
    return DNNet(_imagenet_plain_config(RESNET50_BLOCKS, "bottleneck", groups, "last", **kwargs))


@register_model
def resnet50_anytime(groups: int = 8, **kwargs: Any) -> DNNet:
    """Depth-only anytime ResNet-50: the plain network with a classifier after the stem and every block."""
    return DNNet(_imagenet_plain_config(RESNET50_BLOCKS, "bottleneck", groups, "all", **kwargs))


def _imagenet_plain_config(blocks: tuple[int, ...], block: str, groups: int, exits: str, **kwargs: Any) -> NetConfig:
    return NetConfig(blocks_per_stage=blocks, groups=groups, group_channels=IMAGENET_GROUP_CHANNELS, block=block,
                     causal=False, exits=exits, **{**IMAGENET, **kwargs})


def _groups_of(width_multiplier: float) -> int:
    groups = 16 * width_multiplier
    if width_multiplier <= 0 or groups != int(groups):
        raise UserError(f"width_multiplier must make 16 * multiplier a positive integer, got {width_multiplier}")
    return int(groups)


def _plain_config(blocks_per_stage: int, groups: int, exits: str, **kwargs: Any) -> NetConfig:
    return NetConfig(blocks_per_stage=blocks_per_stage, groups=groups, group_channels=(1, 2, 4), causal=False,
                     exits=exits, **kwargs)
