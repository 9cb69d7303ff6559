"""The fixed-size twin of one cell: an ordinary CNN of plain torch layers."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.layers.group_shortcut import GroupPadShortcut


class SubNetBlock(nn.Module):
    """A residual basic block of fixed width, with the same shortcut rule as the sliceable one."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, shortcut: nn.Module) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)  # in place: one feature map less alive at the block's end
        return self.relu(out)


class SubNet(nn.Module):
    """Cell (depth, width) of a `NetConfig` as a standalone model; `from_cell` builds it empty."""

    def __init__(self, config: NetConfig, depth: int, width: int) -> None:
        super().__init__()
        config.check_cell(depth, width)
        self.config, self.depth, self.width = config, depth, width
        channels = [c * width for c in config.group_channels]
        self.stem = nn.Conv2d(config.in_channels, channels[0], 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(channels[0])
        self.relu = nn.ReLU(inplace=True)
        last_block = config.exit_blocks[depth - 1]
        blocks = []
        for block in range(1, last_block + 1):
            stage, in_stage = config.stage_of_block(block), config.stage_of_block(block - 1)
            stride = 2 if stage != in_stage else 1
            shortcut = _fixed_shortcut(config, in_stage, stage, width, stride)
            blocks.append(SubNetBlock(channels[in_stage], channels[stage], stride, shortcut))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(channels[config.stage_of_block(last_block)], config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.stem_bn(self.stem(x)))
        for block in self.blocks:  # not self.blocks(x): that would keep the stem output alive throughout
            x = block(x)
        x = self.flatten(self.pool(x))
        return self.fc(x)


def _fixed_shortcut(config: NetConfig, in_stage: int, stage: int, width: int, stride: int) -> nn.Module:
    in_gc, out_gc = config.group_channels[in_stage], config.group_channels[stage]
    if stride == 1 and in_gc == out_gc:
        return nn.Identity()
    if config.shortcut == "pad":
        return GroupPadShortcut(in_gc, out_gc, stride)
    return nn.Sequential(nn.Conv2d(in_gc * width, out_gc * width, 1, stride, bias=False), nn.BatchNorm2d(out_gc * width))
