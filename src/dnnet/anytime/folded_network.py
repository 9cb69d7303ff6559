"""The whole network prepared for computing any range of channel groups, and the buffers it computes in.

Channel causality makes the channels of groups 1..w final once computed: a wider sub-network only
appends channels, and a deeper one only appends layers. Every layer here computes the output
groups old+1..new from its input groups 1..new, so widening by a group and running a layer for
the first time (old = 0) are the same operation. Batch norm is folded into the convolutions and
the causal mask applied once (the layers: folded_blocks.py, their convolutions: kernels.py).

A `Workspace` holds one batch shape's buffers; a runner keeps it, with the steps it prepared over
it, for the next batch of the same shape. Memory: with unfolded products, each layer keeps its
unfolded input, k*k times its activation (about 3 MB per image for the ResNet-20 with 8 groups, 14 MB for the
paper's ResNet-32 with 22).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dnnet.anytime.folded_blocks import BlockStep, GroupBlock, StemStep
from dnnet.anytime.kernels import GroupConv, UnfoldedInput, interior
from dnnet.models.dnnet import DNNet
from dnnet.slicing import fold_batchnorm, slice_subnet


@dataclass(frozen=True)
class Workspace:
    """Buffers of one batch shape: activations (channels, N, H, W) with a zero border, and each convolution's
    unfolded input. Layer 0 is the stem, layer i > 0 block i."""

    image: torch.Tensor
    outputs: list[torch.Tensor]  # each layer's output
    middles: list[list[torch.Tensor]]  # each layer's inner activations: a block's, one per inner convolution; the
    # ImageNet stem's convolution output before its max pool
    unfolded: list[list[UnfoldedInput | None]]  # each layer's convolutions' unfolded inputs (None: convolve directly)


@dataclass(frozen=True)
class FoldedNetwork:
    """The stem and every block of a network, computable group range by group range (widening: causal only)."""

    stem: GroupConv
    stem_pool: bool  # the ImageNet stem's 3x3 stride-2 max pool after the stem's relu
    blocks: list[GroupBlock]
    border: int  # the widest padding: every activation buffer carries a zero border this wide

    def workspace(self, x: torch.Tensor, unfold: bool) -> Workspace:
        """Empty buffers for a batch shaped like `x` (the borders zero); `unfold`: keep unfolded inputs, else convolve."""
        border = self.border

        def zeros(channels: int, height: int, width: int) -> torch.Tensor:
            """A buffer seen as (channels, N, H, W). For the library's convolutions its memory is batch-first: the
            first groups of every image are then one block each, which the convolution reads without transposing."""
            if unfold:
                return x.new_zeros(channels, x.shape[0], height, width)
            return x.new_zeros(x.shape[0], channels, height, width).transpose(0, 1)

        def after(conv: GroupConv, source: torch.Tensor) -> torch.Tensor:
            """An empty buffer for the output of `conv` reading `source`."""
            sizes = (conv.output_size(size - 2 * border) + 2 * border for size in source.shape[2:])
            return zeros(conv.matrix.shape[0], *sizes)

        image = zeros(x.shape[1], x.shape[2] + 2 * border, x.shape[3] + 2 * border)
        space = Workspace(image, [], [], [])
        stem_output = after(self.stem, image)
        space.unfolded.append([self.stem.unfolded_input(image, border) if unfold else None])
        if self.stem_pool:  # the convolution's output stays the pool's input; the pool's output halves each side
            space.middles.append([stem_output])
            pooled = ((size - 2 * border - 1) // 2 + 1 + 2 * border for size in stem_output.shape[2:])
            stem_output = zeros(stem_output.shape[0], *pooled)
        else:
            space.middles.append([])
        space.outputs.append(stem_output)
        for block in self.blocks:
            source, middles = space.outputs[-1], []
            for conv in block.main[:-1]:
                middles.append(after(conv, middles[-1] if middles else source))
            inputs = block.conv_inputs(source, middles)
            space.middles.append(middles)
            space.unfolded.append([conv.unfolded_input(seen, border) if unfold else None
                                   for conv, seen in zip(block.convs(), inputs)])
            space.outputs.append(after(block.main[-1], middles[-1] if middles else source))
        return space

    def keep_images(self, space: Workspace, keep: torch.Tensor, layers: int, unfold: bool) -> Workspace:
        """A workspace for the images `keep` (indices into the batch) holding what `space` computed for them in its first
        `layers` layers (0 = the stem; the later ones are not computed yet), so that the images still walking continue
        without those that stopped; `unfold`: the new workspace keeps unfolded inputs (filled here for those layers)."""
        kept = torch.empty(len(keep), space.image.shape[0], *(size - 2 * self.border for size in space.image.shape[2:]),
                           dtype=space.image.dtype, device=space.image.device)
        smaller = self.workspace(kept, unfold)
        copied = [(smaller.image, space.image), *zip(smaller.outputs[:layers], space.outputs[:layers]),
                  *((new, old) for news, olds in zip(smaller.middles[:layers], space.middles[:layers])
                    for new, old in zip(news, olds))]
        for new, old in copied:
            torch.index_select(old, 1, keep, out=new)
        for unfolded in (u for layer in smaller.unfolded[:layers] for u in layer if u is not None):
            unfolded.shaped.copy_(unfolded.patches)  # every input row: a later step refills only the groups it adds
        return smaller

    def fits(self, space: Workspace, x: torch.Tensor, unfold: bool) -> bool:
        """Whether `space` was made for batches shaped like `x`, with the same kernel."""
        padded = (x.shape[1], x.shape[0], *(size + 2 * self.border for size in x.shape[2:]))
        image = space.image
        unfolds = space.unfolded[0][0] is not None
        return image.shape == padded and image.dtype == x.dtype and image.device == x.device and unfolds == unfold

    def step(self, space: Workspace, layer: int, old: int, new: int) -> StemStep | BlockStep:
        """The computation of groups old+1..new of `layer` (0 = the stem) over `space`, prepared to be run
        again and again; its `run()` needs input groups 1..new computed."""
        if layer == 0:
            rows = slice(old * self.stem.out_group_channels, new * self.stem.out_group_channels)
            conv = self.stem.prepare(space.image, space.unfolded[0][0], self.border, old, new)
            output = interior(space.outputs[0], self.border)[rows]
            if not self.stem_pool:
                return StemStep(conv, conv.result.view(output.shape), output, None, output)
            activation = space.middles[0][0]
            activated = interior(activation, self.border)[rows]
            edge = self.border - 1  # the pool's 1-pixel padding: the buffer's zero border
            pool_input = activation[rows, :, edge : activation.shape[2] - edge, edge : activation.shape[3] - edge]
            return StemStep(conv, conv.result.view(activated.shape), activated, pool_input, output)
        return self.blocks[layer - 1].step(space.outputs[layer - 1], space.middles[layer], space.outputs[layer],
                                           space.unfolded[layer], old, new, self.border)


def fold_network(model: DNNet, width: int | None = None) -> FoldedNetwork:
    """The stem and every block of a network, from its slice at `width` groups (default: all) with batch norm folded.

    Computing groups old+1..new from input groups 1..new is exact for channel-causal convolutions;
    for a dense network only old = 0 is (all groups of a layer at once, as a depth-only path does). A width-conditioned
    network is folded at the one width its path keeps: each width has its own batch norm.
    """
    config = model.config
    full = fold_batchnorm(slice_subnet(model.eval(), config.num_exits, config.groups if width is None else width))
    stem = GroupConv.from_conv(full.stem, config.in_channels, config.group_channels[0], shared_input=True)
    blocks = []
    for plan, block in zip(config.blocks(), full.blocks):
        projection = None
        if plan.shortcut == "project":
            if not isinstance(block.shortcut, nn.Conv2d):
                raise TypeError(f"expected the projection shortcut folded into a Conv2d, got {type(block.shortcut).__name__}")
            projection = GroupConv.from_conv(block.shortcut, plan.in_group_channels, plan.out_group_channels)
        main = tuple(GroupConv.from_conv(getattr(block, conv), in_gc, out_gc)
                     for (conv, _), (in_gc, out_gc) in zip(block.CONV_BN_PAIRS, plan.conv_group_channels))
        blocks.append(GroupBlock(plan, main, projection))
    stem_pool = config.stem == "imagenet"
    # every buffer's zero border serves the widest padding, and the stem's max pool (1 pixel)
    border = max([1 if stem_pool else 0] + [conv.padding for conv in [stem, *(conv for block in blocks for conv in block.convs())]])
    return FoldedNetwork(stem, stem_pool, blocks, border)
