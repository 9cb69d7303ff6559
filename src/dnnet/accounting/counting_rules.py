"""Counting rules for one convolution: MACs and parameters, needed and dense.

Only multiply-accumulates of convolutions and linear layers are counted (batch norm folds into
the convolution; ReLU, pooling and additions are left out), as in the paper and in fvcore.
"Needed" counts only the causal connections: output group i reads input groups 1..i.
"Dense" counts what a dense implementation of the slice executes, masked zero blocks included.
"""

from __future__ import annotations

from dnnet.accounting.layer_specs import ConvSpec


def connected_input_channels(conv: ConvSpec) -> int:
    """Sum over the kept output groups of the input channels each one reads."""
    if conv.shared_input or not conv.causal:
        return conv.width * conv.in_channels
    # group i reads i input groups: 1 + 2 + ... + width of them
    return conv.in_group_channels * conv.width * (conv.width + 1) // 2


def conv_params(conv: ConvSpec) -> int:
    """Weights that are not structurally zero (no bias: ResNet convolutions have none)."""
    return conv.out_group_channels * connected_input_channels(conv) * conv.kernel_size**2


def conv_dense_params(conv: ConvSpec) -> int:
    return conv.out_channels * conv.in_channels * conv.kernel_size**2


def conv_macs(conv: ConvSpec) -> int:
    """Multiply-accumulates needed for a batch of one: each useful weight once per output pixel."""
    return conv_params(conv) * conv.out_size**2


def conv_dense_macs(conv: ConvSpec) -> int:
    return conv_dense_params(conv) * conv.out_size**2


def batchnorm_params(channels: int) -> int:
    """Scale and shift per channel; running statistics are buffers, not parameters."""
    return 2 * channels


def linear_params(in_features: int, out_features: int) -> int:
    return in_features * out_features + out_features


def linear_macs(in_features: int, out_features: int) -> int:
    return in_features * out_features
