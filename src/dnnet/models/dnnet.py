"""The doubly nested network: a ResNet sliceable by depth (exits) and width (groups)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.layers import CausalBasicBlock, CausalBottleneckBlock, ChannelCausalConv2d, GroupExitHead, PrefixBatchNorm2d
from dnnet.layers.gradient_scale import scale_gradient
from dnnet.layers.width_conditioned_batchnorm import condition_widths
from dnnet.models.pretrained_cfg import PretrainedConfig
from dnnet.models.pretrained_files import check_kind, load_pretrained, read_pretrained_record, write_pretrained


class DNNet(nn.Module):
    """Stem conv (and its max pool in the ImageNet stem), stages of residual blocks, and a group-wise classifier at every
    exit.

    The sub-network is always an argument: `forward(x, depth, width)` runs one cell,
    `forward_all(x)` returns every cell's logits from one pass of the full network (one pass per width when the
    widths are not nested: a dense or width-conditioned network).
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.pretrained_cfg: PretrainedConfig | None = None  # set by from_pretrained: how to prepare an image
        g = config.groups
        imagenet_stem = config.stem == "imagenet"
        self.stem = ChannelCausalConv2d(config.in_channels, config.group_channels[0], g, kernel_size=7 if imagenet_stem else 3,
                                        stride=2 if imagenet_stem else 1, shared_input=True, causal=config.causal)
        self.stem_bn = PrefixBatchNorm2d(config.group_channels[0] * g)
        self.relu = nn.ReLU(inplace=True)
        # per channel, so width slicing stays exact; no parameters, so the CIFAR networks' state dicts are unchanged
        self.stem_pool = nn.MaxPool2d(3, stride=2, padding=1) if imagenet_stem else nn.Identity()
        block_type = CausalBottleneckBlock if config.block == "bottleneck" else CausalBasicBlock
        self.blocks = nn.ModuleList(block_type(plan, g, config.causal) for plan in config.blocks())
        self.heads = nn.ModuleList(
            GroupExitHead(config.exit_group_channels(depth), g, config.num_classes, config.head_reduction, config.cell_heads)
            for depth in range(1, config.num_exits + 1)
        )
        if config.width_conditioning:
            condition_widths(self, g)

    def exit_features(self, x: torch.Tensor, depth: int, width: int,
                      head_gradient_shares: Sequence[float] | None = None) -> Iterator[torch.Tensor]:
        """Yields the width-`width` feature map at exits 1..depth, computing nothing beyond.

        `head_gradient_shares[i]` (training recipes, e.g. gradient equilibrium): the share of exit i+1's
        feature gradient that comes from its own head, the rest coming from the blocks after it; the
        forward pass is unchanged. Default: each branch passes its whole gradient, as plain autograd.
        """
        self.check_input(x)
        shares = iter(head_gradient_shares or ())
        out = self.stem_pool(self.relu(self.stem_bn(self.stem(x, width))))
        exits = self.config.exit_blocks[:depth]
        for block in range(0, exits[-1] + 1):
            if block > 0:
                out = self.blocks[block - 1](out)
            if block in exits:
                share = next(shares, None)
                if share is None:
                    yield out
                else:
                    yield scale_gradient(out, share)
                    out = scale_gradient(out, 1.0 - share)

    def save_pretrained(self, directory, preprocessing: dict | None = None, provenance: dict | None = None):
        """This network as a folder to share (config.json + model.safetensors), see `dnnet.models.pretrained_files`."""
        return write_pretrained(self, {"kind": "dnnet"}, directory, preprocessing, provenance)

    @classmethod
    def from_pretrained(cls, directory) -> DNNet:
        """The DNNet that `save_pretrained` wrote into `directory`, in eval mode."""
        record = read_pretrained_record(directory)
        check_kind(record, directory, "dnnet", "DNNet")
        config = NetConfig.from_dict(record["net_config"])
        model = load_pretrained(lambda: cls(config), config, directory)
        model.pretrained_cfg = PretrainedConfig.from_preprocessing(record["preprocessing"], str(directory))
        return model

    def forward(self, x: torch.Tensor, depth: int | None = None, width: int | None = None) -> torch.Tensor:
        """Logits (N, classes) of the sub-network at exit `depth` with `width` groups (default: full)."""
        depth = self.config.num_exits if depth is None else depth
        return self.forward_head(self.forward_features(x, depth, width), depth)

    def forward_features(self, x: torch.Tensor, depth: int | None = None, width: int | None = None) -> torch.Tensor:
        """The cell's feature map at exit `depth` (N, width x channels per group, H, W), before its classifier (the
        first half of `forward`, named as timm names it)."""
        depth = self.config.num_exits if depth is None else depth
        width = self.config.groups if width is None else width
        self.config.check_cell(depth, width)
        *_, features = self.exit_features(x, depth, width)
        return features

    def forward_head(self, features: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Logits (N, classes) of exit `depth`'s classifier on `forward_features`' output; the width is the features'."""
        depth = self.config.num_exits if depth is None else depth
        return self.heads[depth - 1](features)[:, -1]

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def reset_classifier(self, num_classes: int) -> None:
        """New, freshly initialised classifiers of every cell for `num_classes` classes (fine-tuning on another data
        set); the rest of the network is kept. The config follows, so slices and saved runs see the new classes."""
        if num_classes < 1:
            raise UserError(f"num_classes must be at least 1, got {num_classes}")
        config = dataclasses.replace(self.config, num_classes=num_classes)
        device = next(self.parameters()).device
        self.heads = nn.ModuleList(
            GroupExitHead(config.exit_group_channels(depth), config.groups, num_classes, config.head_reduction, config.cell_heads)
            for depth in range(1, config.num_exits + 1)
        ).to(device)
        self.config = config

    def forward_all(self, x: torch.Tensor, head_gradient_shares: Sequence[float] | None = None,
                    feature_gradient: Sequence[Sequence[float]] | None = None) -> torch.Tensor:
        """Logits of every sub-network, shape (N, depths, widths, classes).

        Channel causality makes the first w groups of the full pass the width-w sub-network,
        so one full pass gives every cell. A dense (causal=False) network is not nested that way:
        each width is then its own pass (brute-force slicing), G passes in all; so is a width-conditioned one.
        `head_gradient_shares`: see `exit_features`. `feature_gradient[d-1][c-1]` (training recipes): the factor by
        which cell (d, c)'s gradient reaches the shared features (its head's weights get it whole).
        """
        if not self.config.nested_widths:
            widths = range(1, self.config.groups + 1)
            columns = [None if feature_gradient is None else [row[w - 1] for row in feature_gradient] for w in widths]
            return torch.stack([self.forward_exits(x, w, head_gradient_shares, column) for w, column in zip(widths, columns)], dim=2)
        features = self.exit_features(x, self.config.num_exits, self.config.groups, head_gradient_shares)
        if feature_gradient is not None and len(feature_gradient) != self.config.num_exits:
            raise ValueError(f"feature_gradient has {len(feature_gradient)} rows for {self.config.num_exits} exits")
        factors = feature_gradient or [None] * self.config.num_exits
        return torch.stack([head(f, factor) for head, f, factor in zip(self.heads, features, factors)], dim=1)

    def forward_exits(self, x: torch.Tensor, width: int | None = None, head_gradient_shares: Sequence[float] | None = None,
                      feature_gradient: Sequence[float] | None = None) -> torch.Tensor:
        """Logits of every exit at one width, shape (N, depths, classes), from one pass of that width;
        `feature_gradient[d-1]`: the factor by which exit d's gradient reaches the shared features (see `forward_all`)."""
        width = self.config.groups if width is None else width
        self.config.check_cell(1, width)
        features = self.exit_features(x, self.config.num_exits, width, head_gradient_shares)
        per_exit = feature_gradient or [1.0] * self.config.num_exits
        return torch.stack([head(f, [factor] * width)[:, -1] for head, f, factor in zip(self.heads, features, per_exit)], dim=1)

    def check_input(self, x: torch.Tensor) -> None:
        """Raises UserError unless `x` is a batch of images, (N, in_channels, H, W)."""
        if x.dim() != 4 or x.shape[1] != self.config.in_channels:
            raise UserError(
                f"expected input of shape (N, {self.config.in_channels}, H, W), got {tuple(x.shape)}"
            )
