"""Activation memory of one cell: the largest feature map and the peak of a batch-1 pass."""

from __future__ import annotations

from dnnet.accounting.layer_specs import ConvSpec, block_specs, exit_channels, stem_spec
from dnnet.config import NetConfig


def feature_map_sizes(config: NetConfig, depth: int, width: int) -> list[int]:
    """Values in every feature map the cell produces (stem, its max pool's, and every convolution's output), batch 1."""
    sizes = stem_map_sizes(config, width)
    for block in block_specs(config, depth, width):
        sizes += [values(conv) for conv in block.convs]
    return sizes


def values(conv: ConvSpec) -> int:
    """Values in the output of `conv`, batch 1."""
    return conv.out_channels * conv.out_size**2


def stem_map_sizes(config: NetConfig, width: int) -> list[int]:
    """The stem convolution's output, then the ImageNet stem's max-pooled one."""
    stem = stem_spec(config, width)
    pooled = [stem.out_channels * config.stem_size**2] if config.stem == "imagenet" else []
    return [values(stem), *pooled]


def largest_feature_map_values(config: NetConfig, depth: int, width: int) -> int:
    """The paper's memory figure: values in the largest feature map (input image not counted)."""
    return max(feature_map_sizes(config, depth, width))


def peak_activation_values(config: NetConfig, depth: int, width: int) -> int:
    """Most activation values alive at once in a batch-1 forward pass.

    Counting rule: the caller holds the input image for the whole pass; layers run in order and
    a tensor is freed once its last reader has run; batch norm is folded into the convolution and
    ReLU and the residual addition run in place (as an inference runtime does). A layer's input
    and output are alive together, and a block's input stays alive until its shortcut has read it.
    """
    image = config.in_channels * config.image_size**2
    stem_maps = stem_map_sizes(config, width)
    peak, features = sum(stem_maps), stem_maps[-1]  # the max pool reads the stem's output while it writes its own
    for block in block_specs(config, depth, width):
        # each convolution: the block's input (the shortcut reads it last) + its own input + its output
        previous = 0
        for conv in block.convs:
            peak = max(peak, features + previous + values(conv))
            previous = values(conv)
        out = values(block.output)
        shortcut = 0 if block.shortcut == "identity" else out  # a non-identity shortcut adds its own output
        peak = max(peak, features + out + shortcut)
        features = out
    pooled = exit_channels(config, depth, width)
    peak = max(peak, features + pooled, pooled + config.num_classes)
    return image + peak


def peak_activation_bytes(config: NetConfig, depth: int, width: int, bytes_per_value: int = 4) -> int:
    """`peak_activation_values` in bytes (float32 by default)."""
    return bytes_per_value * peak_activation_values(config, depth, width)
