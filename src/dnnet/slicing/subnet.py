"""The fixed-size twin of one cell: an ordinary CNN of plain torch layers."""

from __future__ import annotations

import torch
from torch import nn

from dnnet.config import BlockPlan, NetConfig
from dnnet.layers.group_shortcut import make_shortcut
from dnnet.models.pretrained_cfg import PretrainedConfig
from dnnet.models.pretrained_files import check_kind, load_pretrained, read_pretrained_record, write_pretrained


class SubNetBlock(nn.Module):
    """A residual basic block of fixed width, with the same shortcut rule as the sliceable one."""

    CONV_BN_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"))  # its convolutions in order, each with its batch norm

    def __init__(self, plan: BlockPlan, width: int) -> None:
        super().__init__()
        in_channels, out_channels = plan.in_group_channels * width, plan.out_group_channels * width
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, plan.stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = make_shortcut(plan, width, sliceable=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)  # in place: one feature map less alive at the block's end
        return self.relu(out)


class SubNetBottleneckBlock(nn.Module):
    """A bottleneck block of fixed width (1x1, 3x3 with the stride, 1x1), with the same shortcut rule as the sliceable one."""

    CONV_BN_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def __init__(self, plan: BlockPlan, width: int) -> None:
        super().__init__()
        in_channels, mid, out_channels = (c * width for c in (plan.in_group_channels, plan.mid_group_channels,
                                                               plan.out_group_channels))
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, plan.stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = make_shortcut(plan, width, sliceable=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)  # in place: one feature map less alive at the block's end
        return self.relu(out)


class SubNet(nn.Module):
    """Cell (depth, width) of a `NetConfig` as a standalone model, its weights fresh (`slice_subnet` copies them in)."""

    def __init__(self, config: NetConfig, depth: int, width: int) -> None:
        super().__init__()
        config.check_cell(depth, width)
        self.config, self.depth, self.width = config, depth, width
        self.pretrained_cfg: PretrainedConfig | None = None  # set by from_pretrained: how to prepare an image
        stem_channels = config.group_channels[0] * width
        kernel, stride = (7, 2) if config.stem == "imagenet" else (3, 1)
        self.stem = nn.Conv2d(config.in_channels, stem_channels, kernel, stride, kernel // 2, bias=False)
        self.stem_bn = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.stem_pool = nn.MaxPool2d(3, stride=2, padding=1) if config.stem == "imagenet" else nn.Identity()
        block_type = SubNetBottleneckBlock if config.block == "bottleneck" else SubNetBlock
        self.blocks = nn.Sequential(*(block_type(plan, width) for plan in config.blocks(depth)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(config.exit_group_channels(depth) * width, config.num_classes)

    def save_pretrained(self, directory, preprocessing: dict | None = None, provenance: dict | None = None):
        """This network as a folder to share (config.json + model.safetensors), see `dnnet.models.pretrained_files`."""
        return write_pretrained(self, {"kind": "subnet", "depth": self.depth, "width": self.width}, directory, preprocessing, provenance)

    @classmethod
    def from_pretrained(cls, directory) -> SubNet:
        """The SubNet that `save_pretrained` wrote into `directory`, in eval mode."""
        record = read_pretrained_record(directory)
        check_kind(record, directory, "subnet", "SubNet")
        cell = record["network"]
        config = NetConfig.from_dict(record["net_config"])
        config.check_cell(cell["depth"], cell["width"])
        model = load_pretrained(lambda: cls(config, cell["depth"], cell["width"]), config, directory)
        model.pretrained_cfg = PretrainedConfig.from_preprocessing(record["preprocessing"], str(directory))
        return model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem_pool(self.relu(self.stem_bn(self.stem(x))))
        for block in self.blocks:  # not self.blocks(x): that would keep the stem output alive throughout
            x = block(x)
        x = self.flatten(self.pool(x))
        return self.fc(x)

