"""What a training run's epochs use, built once by the setup phase (`setup.py`) and passed to every epoch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dnnet.data import DataSplits
from dnnet.models.dnnet import DNNet
from dnnet.train.distributed import World
from dnnet.train.epoch_position import EpochPosition
from dnnet.train.objective import StepPlanner
from dnnet.train.teacher import Teacher
from dnnet.train.training_step import TrainingStep
from dnnet.train.weight_average import WeightAverage


@dataclass
class TrainingSetup:
    """Everything a run's epochs use; `position` is the only part that changes between them."""

    world: World
    device: torch.device
    data: DataSplits
    stats: tuple[list[float], list[float]]  # per-channel mean and std of the training images, in 0..1 units
    model: DNNet
    step: TrainingStep  # forward pass (a TrainingForward, in DistributedDataParallel when distributed), loss, backward
    planner: StepPlanner  # what each step trains
    optimizer: torch.optim.Optimizer
    position: EpochPosition
    images: torch.Tensor  # the training images, on `device`
    labels: torch.Tensor
    run_id: str | None  # config.json's, saved in every checkpoint so that a resume knows its own (None: an older run)
    teacher: Teacher | None = None  # whose logits the cells also learn from (`--teacher`)
    average: WeightAverage | None = None  # the moving average of the weights (`--ema`)

    @property
    def evaluated_model(self) -> DNNet:
        """What is validated, evaluated and saved as the trained network: the weights' average, or the model itself."""
        return self.model if self.average is None else self.average.module
