"""The accuracy grid of a trained run on one split, evaluated the way its objective requires."""

from __future__ import annotations

import torch

from dnnet.data import DataSplits
from dnnet.evaluation import CALIBRATION_IMAGES, NO_TTA, grid_accuracy, recalibrated_grid_accuracy
from dnnet.models.dnnet import DNNet
from dnnet.runs.train_config import TrainConfig


def split_accuracy(model: DNNet, config: TrainConfig, data: DataSplits, stats: tuple[list[float], list[float]],
                   split: str, device: torch.device, show_progress: bool = True, tta: str = NO_TTA) -> torch.Tensor:
    """(depths, widths) accuracy, with test-time augmentation `tta` (see `grid_correct`); sandwich-trained runs get
    batch norm recalibrated per width first."""
    dataset = data.split(split)
    if config.objective.kind == "sandwich":
        calibration = data.train.subset(torch.arange(min(CALIBRATION_IMAGES, len(data.train))))
        return recalibrated_grid_accuracy(model, calibration, dataset, *stats, batch_size=config.execution.eval_batch_size, device=device,
                                          tta=tta)
    return grid_accuracy(model, dataset, *stats, batch_size=config.execution.eval_batch_size, device=device,
                         channels_last=config.uses_channels_last(device), show_progress=show_progress, tta=tta)
