"""What a step trains: every cell from one pass (the joint objective, Eq. 2 and its recipe), or slimmable training's
sandwich rule. One type per objective, so that a knob of one cannot be set on the other."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from dnnet.errors import UserError
from dnnet.runs.setting_field import setting

LOSS_SCALES = ("eq2", "depths", "cells")
SAME_AS_AUXILIARY = "auxiliary"  # last_exit_gradient: the narrower widths at the last exit pass the auxiliary factor too


@dataclass(frozen=True)
class JointObjective:
    """Eq. 2 over the cells, every cell from one pass, with the recipe's knobs."""

    kind: ClassVar[str] = "joint"
    weighting: str = setting("auto", "uniform, macs, final, depth_only, half_final or auto (uniform for DNNet, final for "
                                     "resnet32, depth_only for the anytime network); ")
    loss_scale: str = setting("cells", "eq2: the paper's Eq. 2 as written (divided by the sum of the weights: a block then "
                                       "learns only from the exits after it, docs/history.md, \"Loss scale: a finding\"); "
                                       "depths: summed over exits; cells: every cell's loss summed; ")
    gradient_equilibrium: bool = setting(False, "each exit's feature gets the mean, not the sum, of the later exits' "
                                                "gradients (Li et al., ICCV 2019); ")
    width_samples: int = setting(0, "each step trains every exit at the narrowest, the full and this many random widths "
                                    "(0: all); one pass still computes every cell; ")
    auxiliary_gradient: float | None = setting(None, "the factor by which every cell but the full network passes its "
                                                     "gradient into the shared layers (their heads learn at the full "
                                                     "rate); unset: 1 / (trained cells - 1); ")
    last_exit_gradient: float | str | None = setting(None, "the same for the narrower widths at the last exit: a number, "
                                                           "or 'auxiliary' for the factor above (the default before this "
                                                           "setting); unset: 2 / (widths - 1); ")
    exit_ramp: float = setting(0.0, "share of the run over which early exits' loss weights rise from 0.01 to 1; ")
    drop_stem_exit: bool = setting(False, "no loss at the exit after the stem; ")
    distill_weight: float = setting(0.0, "self-distillation of every cell from the full network (0: off, as in the "
                                         "paper); ")
    distill_temperature: float = setting(1.0, "softmax temperature of the self-distillation; ")

    def __post_init__(self) -> None:
        if self.loss_scale not in LOSS_SCALES:
            raise UserError(f"loss_scale must be one of {LOSS_SCALES}, got {self.loss_scale!r}")
        if self.width_samples < 0:
            raise UserError(f"width_samples must be at least 0, got {self.width_samples}")
        if not (math.isfinite(self.distill_weight) and 0 <= self.distill_weight <= 1):
            raise UserError(f"distill_weight must be in [0, 1] (the share of the loss distilled), got {self.distill_weight}")
        if not (math.isfinite(self.distill_temperature) and self.distill_temperature > 0):
            raise UserError(f"distill_temperature must be a positive number, got {self.distill_temperature}")
        if self.auxiliary_gradient is not None and not 0.0 <= self.auxiliary_gradient <= 1.0:  # also false for NaN
            raise UserError(f"auxiliary_gradient must be in [0, 1], got {self.auxiliary_gradient}")
        if isinstance(self.last_exit_gradient, str) and self.last_exit_gradient != SAME_AS_AUXILIARY:
            raise UserError(f"last_exit_gradient must be a number in [0, 1] or {SAME_AS_AUXILIARY!r}, got {self.last_exit_gradient!r}")
        if isinstance(self.last_exit_gradient, (int, float)) and not 0.0 <= self.last_exit_gradient <= 1.0:
            raise UserError(f"last_exit_gradient must be in [0, 1], got {self.last_exit_gradient}")
        if not 0.0 <= self.exit_ramp <= 1.0:
            raise UserError(f"exit_ramp must be in [0, 1] (a share of the run), got {self.exit_ramp}")


@dataclass(frozen=True)
class SandwichObjective:
    """Slimmable training of the last exit: the largest, the smallest and 2 random widths per step, the others
    distilled from the largest in place; batch norm recalibrated per width. It has no knobs."""

    kind: ClassVar[str] = "sandwich"


Objective = JointObjective | SandwichObjective
OBJECTIVES = {kind.kind: kind for kind in (JointObjective, SandwichObjective)}


def knobs_it_lacks(kind: str) -> set[str]:
    """The joint objective's settings that objective `kind` has no field for (all of them for the sandwich rule)."""
    own = {f.name for f in dataclasses.fields(OBJECTIVES.get(kind, JointObjective))}
    return {f.name for f in dataclasses.fields(JointObjective)} - own
