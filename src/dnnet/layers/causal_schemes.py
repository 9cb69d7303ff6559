"""How a network's channel-causal convolutions execute: one name for the whole model, the same outputs either way.

"dense" (the default) runs each as one convolution on mask-multiplied weights; "chunks:K" as K row chunks
(chunked_convolution.py); "halvings:L" by recursive halving (halved_convolution.py). Measured on a 2-core CPU and on an
H200 (docs/benchmarks.md, "Executing the causal convolution"), "dense" was the fastest for every network, so it stays
the default everywhere; the others are here to measure on another processor (bench/causal_conv_schemes.py) and to
force (`dnnet train --causal-scheme`).
"""

from __future__ import annotations

from torch import nn

from dnnet.layers.causal_conv import ChannelCausalConv2d


def parse_scheme(scheme: str) -> tuple[int, int]:
    """(chunks, halvings) of "dense", "chunks:K" (K >= 1) or "halvings:L" (L >= 0)."""
    kind, _, count = scheme.partition(":")
    if kind == "dense" and not count:
        return 1, 0
    if kind in ("chunks", "halvings") and count.isdigit():
        number = int(count)
        if kind == "chunks" and number >= 1:
            return number, 0
        if kind == "halvings":
            return 1, number
    raise ValueError(f"a causal convolution scheme is 'dense', 'chunks:K' (K >= 1) or 'halvings:L' (L >= 0), got {scheme!r}")


def set_causal_scheme(model: nn.Module, scheme: str) -> None:
    """Every channel-causal convolution of `model` executes as `scheme` from now on (not part of its state dict)."""
    chunks, halvings = parse_scheme(scheme)
    for layer in model.modules():
        if isinstance(layer, ChannelCausalConv2d):
            layer.chunks, layer.halvings = 1, 0  # reset first: the two cannot both be set
            layer.chunks, layer.halvings = chunks, halvings
