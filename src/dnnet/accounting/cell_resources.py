"""Resources of every cell of the depth x width grid, as pure functions of the architecture."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dnnet.accounting.activation_memory import largest_feature_map_values, peak_activation_bytes
from dnnet.accounting.counting_rules import (
    batchnorm_params,
    conv_dense_macs,
    conv_dense_params,
    conv_macs,
    conv_params,
    linear_macs,
    linear_params,
)
from dnnet.accounting.layer_specs import cell_convs, exit_channels
from dnnet.config import NetConfig


@dataclass(frozen=True)
class CellResources:
    """What sub-network (depth, width) costs for one image (see `counting_rules` for the rules)."""

    depth: int  # exit, 1-based (1 = after the stem)
    width: int  # channel groups kept, 1-based
    macs: int  # multiply-accumulates needed: causal connections only
    dense_macs: int  # executed by a dense implementation of the slice, masked blocks included
    params: int  # parameters without the masked-out zeros (BN scale/shift and classifier included)
    dense_params: int  # parameters a dense slice stores
    largest_feature_map_values: int  # values in the largest feature map (the paper's memory figure)
    peak_act_bytes: int  # peak activation memory of a batch-1 float32 forward pass

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cell_resources(config: NetConfig, depth: int, width: int) -> CellResources:
    """Resources of the cell at exit `depth` with the first `width` groups."""
    config.check_cell(depth, width)
    convs = cell_convs(config, depth, width)
    head_in = exit_channels(config, depth, width)
    head_params = linear_params(head_in, config.num_classes)
    head_macs = linear_macs(head_in, config.num_classes)
    bn_params = sum(batchnorm_params(conv.out_channels) for conv in convs)
    return CellResources(
        depth=depth,
        width=width,
        macs=sum(conv_macs(c) for c in convs) + head_macs,
        dense_macs=sum(conv_dense_macs(c) for c in convs) + head_macs,
        params=sum(conv_params(c) for c in convs) + bn_params + head_params,
        dense_params=sum(conv_dense_params(c) for c in convs) + bn_params + head_params,
        largest_feature_map_values=largest_feature_map_values(config, depth, width),
        peak_act_bytes=peak_activation_bytes(config, depth, width),
    )


def grid_resources(config: NetConfig) -> list[CellResources]:
    """Every cell, depth-major: (1, 1), (1, 2), ..., (num_exits, groups)."""
    return [
        cell_resources(config, depth, width)
        for depth in range(1, config.num_exits + 1)
        for width in range(1, config.groups + 1)
    ]


def model_params(config: NetConfig) -> int:
    """Useful parameters of the whole network: every exit's classifier (with cell_heads, one per width) plus the full trunk."""
    trunk_and_last_head = cell_resources(config, config.num_exits, config.groups).params
    widths = range(1, config.groups + 1) if config.cell_heads else [config.groups]
    heads = sum(linear_params(exit_channels(config, depth, width), config.num_classes)
                for depth in range(1, config.num_exits + 1) for width in widths)
    last_head = linear_params(exit_channels(config, config.num_exits, config.groups), config.num_classes)
    return trunk_and_last_head + heads - last_head + conditioning_params(config)


def conditioning_params(config: NetConfig) -> int:
    """The per-width scales and shifts of a width-conditioned network (0 without): width w conditions the channels of its
    w groups after every convolution. A sliced cell folds its own into its batch norm, so no cell's count changes."""
    if not config.width_conditioning:
        return 0
    channels_per_group = sum(conv.out_channels for conv in cell_convs(config, config.num_exits, 1))
    return channels_per_group * config.groups * (config.groups + 1)  # 2 per channel, sum over w of w groups
