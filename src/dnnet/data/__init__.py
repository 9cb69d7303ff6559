"""Data sets in memory as uint8 tensors, batched augmentation, and safe archive reading."""

from dnnet.data.augment import augment, channel_stats, normalize
from dnnet.data.dispatch import EMBEDDED_DEFAULT, NAMED, detect_format, load_data
from dnnet.data.splits import DataSplits, ImageDataset, hold_out
from dnnet.data.torch_dataset import NormalisedImages, torch_dataset

__all__ = [
    "EMBEDDED_DEFAULT",
    "NAMED",
    "DataSplits",
    "ImageDataset",
    "NormalisedImages",
    "augment",
    "channel_stats",
    "detect_format",
    "hold_out",
    "torch_dataset",
    "load_data",
    "normalize",
]
