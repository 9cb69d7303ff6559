"""Accuracy of every (depth, width) cell in one pass over a data set."""

from __future__ import annotations

import torch

from dnnet.data import ImageDataset, normalize
from dnnet.errors import UserError
from dnnet.evaluation.tta import NO_TTA, augmented_logits
from dnnet.models.dnnet import DNNet
from dnnet.utils.progress_bar import progress


@torch.no_grad()
def grid_correct(model: DNNet, dataset: ImageDataset, mean: list[float], std: list[float], batch_size: int = 500,
                 device: torch.device | None = None, channels_last: bool = False, width: int | None = None,
                 show_progress: bool = True, tta: str = NO_TTA) -> torch.Tensor:
    """Number of correctly classified images per cell, (depths, widths) int64, via `forward_all`.

    With `width`, only that width's exits, (depths, 1), from one pass of that width. With `tta` "flip", each cell's
    logits are the mean of those of the image and of its mirror (one pass each, see `augmented_logits`).
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    columns = model.config.groups if width is None else 1
    correct = torch.zeros(model.config.num_exits, columns, dtype=torch.long, device=device)
    batches = range(0, len(dataset), batch_size)
    batches = progress(batches, f"evaluating {model.config.grid_shape[0] * columns} cells", unit="batch") if show_progress else batches
    for start in batches:
        images = normalize(dataset.images[start : start + batch_size].to(device), mean, std)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        labels = dataset.labels[start : start + batch_size].to(device)
        logits = augmented_logits(lambda x: cell_logits(model, x, width), images, tta)
        predictions = logits.argmax(-1)  # (N, depths, widths)
        correct += (predictions == labels[:, None, None]).sum(0)
    model.train(was_training)
    return correct.cpu()


def cell_logits(model: DNNet, images: torch.Tensor, width: int | None = None) -> torch.Tensor:
    """(N, depths, widths, classes) logits of every cell, or with `width` (N, depths, 1, classes) of that width's exits."""
    return model.forward_all(images) if width is None else model.forward_exits(images, width)[:, :, None]


def grid_accuracy(model: DNNet, dataset: ImageDataset, mean: list[float], std: list[float], **kwargs) -> torch.Tensor:
    """Accuracy per cell in [0, 1], (depths, widths) float64."""
    if len(dataset) == 0:
        raise UserError("cannot evaluate on an empty data set")
    return grid_correct(model, dataset, mean, std, **kwargs).double() / len(dataset)


@torch.no_grad()
def per_image_correct(model: DNNet, dataset: ImageDataset, mean: list[float], std: list[float], batch_size: int = 500,
                      width: int | None = None) -> torch.Tensor:
    """Whether each cell classifies each image correctly, bool (N, depths, widths); with `width`, (N, depths, 1)."""
    model.eval()
    rows = []
    for start in range(0, len(dataset), batch_size):
        images = normalize(dataset.images[start : start + batch_size], mean, std)
        logits = model.forward_all(images) if width is None else model.forward_exits(images, width)[:, :, None]
        rows.append(logits.argmax(-1) == dataset.labels[start : start + batch_size, None, None])
    return torch.cat(rows)
