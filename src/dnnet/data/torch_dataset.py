"""A split as a `torch.utils.data.Dataset`, for users who bring their own training loop (Lightning, a plain loop, a
DataLoader with workers): each item is (image normalised as dnnet trains, label), with dnnet's augmentation if asked."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from dnnet.data.augment import augment, channel_stats, normalize
from dnnet.data.splits import DataSplits

SPLITS = ("train", "val", "test")


class NormalisedImages(Dataset):
    """(C, H, W) float images, minus `mean` over `std` per channel (0..1 units), and their int64 labels. With `augment`
    each item gets the pad-and-crop (or, with `resized_crop`, the random resized crop of data fitted to a size) and,
    unless `flip` is False, the mirror that `dnnet train` applies, drawn from a generator seeded per process from
    torch's seed (a DataLoader gives each worker its own)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: list[float], std: list[float],
                 augment: bool = False, flip: bool = True, resized_crop: bool = False) -> None:
        self.images, self.labels = images, labels
        self.mean, self.std = torch.tensor(mean), torch.tensor(std)
        self.augment, self.flip, self.resized_crop = augment, flip, resized_crop
        self._generator: torch.Generator | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index : index + 1]
        if self.augment:
            if self._generator is None:  # made in the process that draws: each DataLoader worker has its own seed
                self._generator = torch.Generator().manual_seed(torch.initial_seed() % 2**63)
            image = augment(image, self._generator, flip=self.flip, resized_crop=self.resized_crop)
        return normalize(image, self.mean, self.std)[0], self.labels[index]


def torch_dataset(data: DataSplits, split: str = "train", augment: bool = False, resized_crop: bool = False) -> NormalisedImages:
    """`data`'s split as a Dataset, normalised by the training split's statistics (as `dnnet train` normalises);
    `augment` as training augments (a mirror only where the data allows it: not for digits), with `resized_crop` the
    random resized crops `dnnet train` takes of data loaded with an `image_size`."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    mean, std = channel_stats(data.train.images)
    chosen = getattr(data, split)
    return NormalisedImages(chosen.images, chosen.labels, mean, std, augment=augment, flip=data.flip, resized_crop=resized_crop)
