"""Activation memory of one cell: the largest feature map and the peak of a batch-1 pass."""

from __future__ import annotations

from dnnet.accounting.layer_specs import block_specs, exit_channels, stem_spec
from dnnet.config import NetConfig


def feature_map_sizes(config: NetConfig, depth: int, width: int) -> list[int]:
    """Values in every feature map the cell produces (stem, conv and shortcut outputs), batch 1."""
    stem = stem_spec(config, width)
    sizes = [stem.out_channels * stem.out_size**2]
    for block in block_specs(config, depth, width):
        sizes.append(block.conv1.out_channels * block.conv1.out_size**2)
        sizes.append(block.conv2.out_channels * block.conv2.out_size**2)
    return sizes


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
    stem = stem_spec(config, width)
    image = config.in_channels * config.image_size**2
    peak = stem.out_channels * stem.out_size**2
    features = peak
    for block in block_specs(config, depth, width):
        mid = block.conv1.out_channels * block.conv1.out_size**2
        out = block.conv2.out_channels * block.conv2.out_size**2
        # conv1: input + mid; conv2: input + mid + out; a non-identity shortcut adds its own output
        shortcut = 0 if block.shortcut == "identity" else out
        peak = max(peak, features + mid + out, features + out + shortcut)
        features = out
    pooled = exit_channels(config, depth, width)
    peak = max(peak, features + pooled, pooled + config.num_classes)
    return image + peak


def peak_activation_bytes(config: NetConfig, depth: int, width: int, bytes_per_value: int = 4) -> int:
    """`peak_activation_values` in bytes (float32 by default)."""
    return bytes_per_value * peak_activation_values(config, depth, width)
