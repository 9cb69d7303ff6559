"""The learning rate of every training step: scaled linearly with the batch, warmed up, then a step or cosine schedule."""

from __future__ import annotations

import math

from dnnet.runs.train_config import TrainConfig


def learning_rate(config: TrainConfig, progress: float) -> float:
    """Learning rate at `progress` = epochs done (fractional) / total epochs.

    "step": `config.optimiser.scaled_lr`, x0.1 from 50% and again from 75% of the run; "cosine": from
    `config.optimiser.scaled_lr` down to 0 along half a cosine period. During the first `config.optimiser.warmup_epochs`
    the rate is multiplied by the share of the warm-up done (a large batch's rate is not safe at once).
    """
    if config.optimiser.schedule == "cosine":
        rate = config.optimiser.scaled_lr * 0.5 * (1 + math.cos(math.pi * progress))
    else:
        rate = config.optimiser.scaled_lr * (0.1 ** ((progress >= 0.5) + (progress >= 0.75)))
    if config.optimiser.warmup_epochs > 0:
        rate *= min(1.0, progress * config.optimiser.epochs / config.optimiser.warmup_epochs)
    return rate


def step_learning_rate(config: TrainConfig, epoch: int, step: int, steps: int) -> float:
    """The rate of step `step` (0-based) of the `steps` in epoch `epoch` (0-based)."""
    return learning_rate(config, (epoch + step / steps) / config.optimiser.epochs)


def epoch_learning_rate(config: TrainConfig, epoch: int, steps: int) -> float:
    """The rate an epoch is logged with: that of its last step, the one the epoch ended at."""
    return step_learning_rate(config, epoch, steps - 1, steps)
