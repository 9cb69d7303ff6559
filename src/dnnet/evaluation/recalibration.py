"""Batch norm statistics recomputed for one width, for networks whose widths share no statistics.

A slimmable (sandwich-trained) network runs every width through the same batch norm layers, but the
first channels see different inputs at different widths: its running statistics fit no width well.
The usual remedy is to recompute them per width from training images before evaluating that width.
"""

from __future__ import annotations

import copy

import torch

from dnnet.data import ImageDataset, normalize
from dnnet.errors import UserError
from dnnet.evaluation.grid_accuracy import grid_correct
from dnnet.evaluation.tta import NO_TTA
from dnnet.layers.prefix_batchnorm import to_local_batchnorm
from dnnet.models.dnnet import DNNet

CALIBRATION_IMAGES = 2048


@torch.no_grad()
def recalibrated(model: DNNet, width: int, calibration: ImageDataset, mean: list[float], std: list[float],
                 batch_size: int = 256, device: torch.device | None = None) -> DNNet:
    """A copy of `model` whose batch norm statistics are the exact average over `calibration` at `width`."""
    device = device or next(model.parameters()).device
    # un-synced: the copy is calibrated by one process (rank 0 evaluates alone), so no collective may run
    twin = to_local_batchnorm(copy.deepcopy(model)).train()
    norms = [m for m in twin.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for module in norms:
        module.reset_running_stats()
    for batch, start in enumerate(range(0, len(calibration), batch_size)):
        for module in norms:
            module.momentum = 1.0 / (batch + 1)  # running value = the average over the batches so far
        twin.forward_exits(normalize(calibration.images[start : start + batch_size].to(device), mean, std), width)
    return twin.eval()


def recalibrated_grid_accuracy(model: DNNet, calibration: ImageDataset, dataset: ImageDataset, mean: list[float],
                               std: list[float], batch_size: int = 500, device: torch.device | None = None,
                               tta: str = NO_TTA) -> torch.Tensor:
    """Accuracy per cell, (depths, widths) float64, each width evaluated with its own recalibrated statistics (and
    test-time augmentation `tta`, see `grid_correct`)."""
    if len(dataset) == 0:
        raise UserError("cannot evaluate on an empty data set")
    columns = []
    for width in range(1, model.config.groups + 1):
        twin = recalibrated(model, width, calibration, mean, std, device=device)
        columns.append(grid_correct(twin, dataset, mean, std, batch_size, device, width=width, tta=tta)[:, 0])
    return torch.stack(columns, dim=1).double() / len(dataset)
