"""Where a training epoch stands: saved in every checkpoint, so that an interrupted epoch resumes exactly."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class EpochPosition:
    """Where an epoch stands; saved in a checkpoint so an interrupted epoch resumes exactly."""

    epoch: int  # 0-based epoch in progress
    step: int = 0  # batches done in this epoch
    generator_state: torch.Tensor | None = None  # augmentation RNG after `step` batches
    generator_device: str = "cpu"  # the kind of device it draws on (its state means nothing to another kind)
    loss_sum: float = 0.0
    correct: int = 0  # of the full network on augmented training images
    seen: int = 0
    seconds: float = 0.0  # spent on the `step` batches, across interruptions: `seen / seconds` is the epoch's speed
    teacher_seconds: float = 0.0  # of `seconds`, spent in the teacher's forward passes (`--teacher`)

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "generator_state": self.generator_state,
                "generator_device": self.generator_device,
                "loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen, "seconds": self.seconds,
                "teacher_seconds": self.teacher_seconds}
