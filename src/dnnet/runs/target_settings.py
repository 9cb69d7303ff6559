"""What every trained cell learns from besides the plain label: a smoothed label and a teacher's logits (either
objective)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dnnet.errors import UserError
from dnnet.runs.setting_field import setting

TEACHER_WEIGHT, TEACHER_TEMPERATURE = 0.5, 4.0


@dataclass(frozen=True)
class TargetSettings:
    label_smoothing: float = setting(0.0, "every cell's cross-entropy (the sandwich rule's too) against (1 - EPS) x the "
                                          "one-hot label + EPS / classes, EPS in [0, 1); ", metavar="EPS")
    teacher: str | None = setting(None, "a finished run directory or a pretrained weights folder (dnnet pretrained): every "
                                        "trained cell also learns from its full network's logits on the same augmented "
                                        "batch (its forward time per epoch is the metrics' teacher_seconds); ",
                                  metavar="RUN_OR_PRETRAINED")
    teacher_weight: float = setting(TEACHER_WEIGHT, "with --teacher, each cell's loss is (1 - W) x its own + W x T^2 "
                                                    "KL(teacher || cell), W in (0, 1]: mixed, not added, so the loss "
                                                    "keeps its scale; ", metavar="W")
    teacher_temperature: float = setting(TEACHER_TEMPERATURE, "with --teacher, the temperature T of both softmaxes (a "
                                                              "common choice for CIFAR-sized networks); ", metavar="T")

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:  # also false for NaN
            raise UserError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.teacher is not None and not self.teacher.strip():
            raise UserError("teacher must name a run directory or a pretrained weights folder, got an empty string")
        if not 0.0 < self.teacher_weight <= 1.0:
            raise UserError(f"teacher_weight must be in (0, 1], got {self.teacher_weight}")
        if not (math.isfinite(self.teacher_temperature) and self.teacher_temperature > 0):
            raise UserError(f"teacher_temperature must be a positive number, got {self.teacher_temperature}")
        if self.teacher is None:  # a weight or temperature for no teacher would be silently ignored
            changed = [name for name, default in (("teacher_weight", TEACHER_WEIGHT), ("teacher_temperature", TEACHER_TEMPERATURE))
                       if getattr(self, name) != default]
            if changed:
                raise UserError(f"{' and '.join(changed)} apply to distillation from a teacher: add teacher")
