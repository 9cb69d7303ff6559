"""How the weights move: SGD, its learning-rate schedule and an average of the weights."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dnnet.errors import UserError
from dnnet.runs.setting_field import setting

SCHEDULES = ("step", "cosine")


@dataclass(frozen=True)
class OptimiserSettings:
    epochs: int = setting(30, "passes over the training split; ")
    batch_size: int = setting(128, "global batch, split across processes when distributed; ")
    lr: float = setting(0.1, "learning rate per 128 images, scaled linearly with --batch-size; ")
    momentum: float = setting(0.9, "SGD momentum; ")
    nesterov: bool = setting(True, "Nesterov momentum; ")
    weight_decay: float = setting(5e-4, "on every parameter (a common choice for short CIFAR schedules); ")
    schedule: str = setting("step", "step: x0.1 at 50%% and 75%% of the epochs (the usual CIFAR ResNet one); cosine: to 0 "
                                    "along half a cosine; ")
    warmup_epochs: float = setting(0.0, "the learning rate rises linearly from 0 over this many epochs; ")
    ema: float = setting(0.0, "an exponential moving average of the weights, updated after every optimizer step with "
                              "this decay, e.g. 0.999 (0: off); batch norm's running statistics are averaged too; the "
                              "average is what each epoch validates, the final grids evaluate and the run loads as its "
                              "trained model, the checkpoint keeping the optimizer's weights to resume; ", metavar="DECAY")

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise UserError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):  # NaN fails every comparison: ask for what is wanted
            raise UserError(f"lr must be a positive number, got {self.lr}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise UserError(f"{name} must be a finite number at least 0, got {value}")
        if not self.momentum < 1:  # 1 or more never forgets a gradient: the step grows without bound
            raise UserError(f"momentum must be below 1, got {self.momentum}")
        if not (self.ema == 0.0 or 0.0 < self.ema < 1.0):
            raise UserError(f"ema must be 0 (off) or a decay in (0, 1), such as 0.999, got {self.ema}")
        if not 0.0 <= self.warmup_epochs <= self.epochs:
            raise UserError(f"warmup_epochs must be in 0..epochs ({self.epochs}), got {self.warmup_epochs}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")

    @property
    def scaled_lr(self) -> float:
        return self.lr * self.batch_size / 128
