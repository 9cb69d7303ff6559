"""The in-memory split types: one uint8 tensor of images per split, as airbench keeps CIFAR, and the seeded hold-out."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dnnet.errors import UserError


@dataclass
class ImageDataset:
    """`images` uint8 (N, C, H, W), `labels` int64 (N,), `classes` the label names; `skipped`: the files of the source
    left out because they could not be read ("path: reason"; see --skip-bad-images)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"{self.images.shape[0]} images but labels of shape {tuple(self.labels.shape)}")
        self.labels = self.labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: torch.Tensor) -> ImageDataset:
        return ImageDataset(self.images[index], self.labels[index], self.classes)


@dataclass
class DataSplits:
    """Train (for fitting), val (held out from train, for choosing cells) and test (for reporting only)."""

    name: str
    train: ImageDataset
    val: ImageDataset
    test: ImageDataset
    flip: bool  # horizontal flips are a valid augmentation (not for digits)
    skipped_images: tuple[str, ...] = ()  # unreadable files left out of the source ("path: reason"), see --skip-bad-images

    @property
    def classes(self) -> list[str]:
        return self.train.classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])

    def split(self, name: str) -> ImageDataset:
        if name not in ("train", "val", "test"):
            raise UserError(f"split must be one of train, val, test, got {name!r}")
        return getattr(self, name)


def hold_out(dataset: ImageDataset, count: int, seed: int) -> tuple[ImageDataset, ImageDataset]:
    """Splits `count` images off `dataset` at random with a fixed seed: (rest, held_out)."""
    if not 0 < count < len(dataset):
        raise UserError(f"cannot hold out {count} of {len(dataset)} images")
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    return dataset.subset(order[count:]), dataset.subset(order[:count])
