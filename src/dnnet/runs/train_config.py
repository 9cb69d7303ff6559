"""Every setting of a training run, in one frozen dataclass saved beside the run."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dnnet.config import DEFAULT_PRESET
from dnnet.errors import UserError
from dnnet.utils.amounts import SEED_LIMIT, check_image_size
from dnnet.utils.strict_fields import from_known_fields

if TYPE_CHECKING:
    import torch

SCHEDULES = ("step", "cosine")
OBJECTIVES = ("joint", "sandwich")
LOSS_SCALES = ("eq2", "depths", "cells")
# The paper's training, the default until the recipe study (docs/history.md, "Training recipe"): per-group
# classifiers summed over widths, every cell's loss at weight 1 / (number of cells) per exit, all passed whole
PAPER_RECIPE = {"cell_heads": False, "loss_scale": "depths", "auxiliary_gradient": 1.0, "last_exit_gradient": "auxiliary"}
RECIPES = {"default": {"cell_heads": True, "loss_scale": "cells", "auxiliary_gradient": None, "last_exit_gradient": None},
           "paper": PAPER_RECIPE}
# what a run saved before a setting existed was trained with (its config.json lacks the key)
BEFORE_THE_SETTING_EXISTED = {"cell_heads": False, "auxiliary_gradient": 1.0, "last_exit_gradient": "auxiliary"}
SAME_AS_AUXILIARY = "auxiliary"  # last_exit_gradient: the narrower widths at the last exit pass the auxiliary factor too
# how a step runs, not what it computes: a resumed run takes them from its caller, not from its checkpoint
RUNTIME_SETTINGS = ("compile", "compile_mode", "tensorboard")
# torch.compile's mode per `compile_mode`: "cuda-graphs" also records the compiled step's kernels as CUDA graphs and
# replays them, one launch for the lot (a GPU only: elsewhere torch compiles as "default")
COMPILE_MODES = {"default": "default", "cuda-graphs": "reduce-overhead"}


@dataclass(frozen=True)
class TrainConfig:
    preset: str = DEFAULT_PRESET  # a name from dnnet.list_models()
    groups: int | None = None  # None: the preset's; fewer: the same network with fewer channels per layer
    cell_heads: bool = True  # a network trained at every width gets a classifier per cell (NetConfig.cell_heads)
    width_conditioning: bool = False  # every batch norm gets a scale, shift and statistics per width (adaptive
    # conditioning, NetConfig.width_conditioning): each width is then its own pass, in training and in the runner
    objective: str = "joint"  # "joint": Eq. 2 over the cells; "sandwich": slimmable training (largest, smallest and
    # 2 random widths per step, the others distilled from the largest in place), batch norm recalibrated per width
    data: str = "digits"  # a named data set (cifar10, cifar100, svhn, digits) or a folder / archive path
    data_dir: str | None = None  # where named data sets live (default ./data)
    epochs: int = 30
    batch_size: int = 128  # global batch, split across processes when distributed
    lr: float = 0.1  # per 128 images; scaled linearly with batch_size
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4  # on all parameters; a common choice for short CIFAR schedules
    schedule: str = "step"  # "step": x0.1 at 50% and 75% of the epochs (the usual CIFAR ResNet one); "cosine"
    weighting: str = "auto"  # loss weights lambda: auto = uniform for DNNet, final for resnet32, depth_only for the anytime one
    loss_scale: str = "cells"  # "eq2": the paper's Eq. 2 as written (divided by the sum of the weights); "depths": Eq. 2
    # times the number of trained exits, i.e. summed over exits as depth-only anytime networks are trained. With "eq2"
    # a block only learns from the exits after it, so deep blocks get a fraction of the step (measured in
    # docs/history.md, "Loss scale: a finding"); "cells": every cell's loss summed
    gradient_equilibrium: bool = False  # each exit's feature gets the mean, not the sum, of the trained later exits'
    # gradients, heads keep theirs whole (Li et al., ICCV 2019); the forward pass is unchanged
    width_samples: int = 0  # joint objective: each step trains every exit at the narrowest, the full and this many
    # random widths (0: every width); one pass still computes every cell
    auxiliary_gradient: float | None = None  # the factor by which every cell but the full network passes its gradient
    # into the shared layers (1: plain autograd); their heads still learn at the full rate, the forward pass is unchanged.
    # None: 1 / (trained cells - 1), so that the other cells together pass about as much as the full network's own loss
    last_exit_gradient: float | str | None = None  # the factor by which the narrower widths at the last exit pass their
    # gradient into the shared layers: the widths a user runs at full depth shape the features they share. None: 2 /
    # (widths - 1), so that together they pass about twice the full network's; "auxiliary": auxiliary_gradient's
    exit_ramp: float = 0.0  # share of the run over which early exits' loss weights rise from 0.01 to 1 (0: no ramp)
    drop_stem_exit: bool = False  # no loss at the exit right after the stem
    warmup_epochs: float = 0.0  # the learning rate rises linearly from 0 over this many epochs (0: no warm-up)
    distill_weight: float = 0.0  # self-distillation from the full network (0 = off, as in the paper)
    distill_temperature: float = 1.0
    label_smoothing: float = 0.0  # every cell's cross-entropy (and the sandwich rule's) against (1 - eps) x one-hot +
    # eps / classes instead of the one-hot label (0: plain cross-entropy)
    teacher: str | None = None  # a finished run directory or a pretrained weights folder: every trained cell also learns
    # from its full network's logits on the same augmented batch (None: no teacher)
    teacher_weight: float = 0.5  # with a teacher, each cell's loss is (1 - weight) x its own loss + weight x the
    # teacher's T^2 KL(teacher || cell): mixed, not added, so the loss keeps its scale
    teacher_temperature: float = 4.0  # with a teacher, T of both softmaxes (a common choice for CIFAR-sized networks)
    ema: float = 0.0  # decay per optimizer step of an exponential moving average of the weights and batch norm
    # statistics (0: off); the average is what is validated, evaluated and loaded as the trained model
    val_count: int | None = None  # images held out of train for validation (None = data set's default)
    skip_bad_images: bool = False  # an image folder's unreadable images are left out (counted in config.json), not refused
    image_size: int | None = None  # every image fitted to this square (short side resized, centre cropped); None: as read
    seed: int = 0  # model init, validation split, shuffling and augmentation
    amp: bool = True  # bfloat16 autocast on GPU; ignored on CPU
    channels_last: bool | None = None  # memory format of activations; None: on GPU only (on the 2-core CPU machine
    # it made training steps 1.2-2.0x slower, docs/benchmarks.md)
    eval_batch_size: int = 500
    tensorboard: bool = False  # each epoch's metrics also as TensorBoard scalars in RUN/tensorboard (the extra `tensorboard`)
    compile: bool = False  # the training step (forward pass and joint loss) through torch.compile: fewer, fused
    # kernels where launching them bounds the step (GPU); the same losses to rounding; falls back to eager if it fails
    compile_mode: str = "default"  # with compile: "default", or "cuda-graphs" (COMPILE_MODES)

    def __post_init__(self) -> None:
        check_image_size(self.image_size)
        if self.epochs < 1:
            raise UserError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):  # NaN fails every comparison: ask for what is wanted
            raise UserError(f"lr must be a positive number, got {self.lr}")
        for name in ("momentum", "weight_decay", "distill_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise UserError(f"{name} must be a finite number at least 0, got {value}")
        if not self.momentum < 1:  # 1 or more never forgets a gradient: the step grows without bound
            raise UserError(f"momentum must be below 1, got {self.momentum}")
        if not self.distill_weight <= 1:
            raise UserError(f"distill_weight must be in [0, 1] (the share of the loss distilled), got {self.distill_weight}")
        if not (math.isfinite(self.distill_temperature) and self.distill_temperature > 0):
            raise UserError(f"distill_temperature must be a positive number, got {self.distill_temperature}")
        if not 0.0 <= self.label_smoothing < 1.0:  # also false for NaN
            raise UserError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not (self.ema == 0.0 or 0.0 < self.ema < 1.0):
            raise UserError(f"ema must be 0 (off) or a decay in (0, 1), such as 0.999, got {self.ema}")
        self._check_teacher()
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"seed must be a whole number from 0 to 2**63 - 1, got {self.seed!r}")
        if self.eval_batch_size < 1:  # checked now, not after a whole epoch of training
            raise UserError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
        if self.loss_scale not in LOSS_SCALES:
            raise UserError(f"loss_scale must be one of {LOSS_SCALES}, got {self.loss_scale!r}")
        if self.objective not in OBJECTIVES:
            raise UserError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.groups is not None and self.groups < 1:
            raise UserError(f"groups must be at least 1, got {self.groups}")
        if self.width_samples < 0:
            raise UserError(f"width_samples must be at least 0, got {self.width_samples}")
        if self.auxiliary_gradient is not None and not 0.0 <= self.auxiliary_gradient <= 1.0:  # also false for NaN
            raise UserError(f"auxiliary_gradient must be in [0, 1], got {self.auxiliary_gradient}")
        if isinstance(self.last_exit_gradient, str) and self.last_exit_gradient != SAME_AS_AUXILIARY:
            raise UserError(f"last_exit_gradient must be a number in [0, 1] or {SAME_AS_AUXILIARY!r}, got {self.last_exit_gradient!r}")
        if isinstance(self.last_exit_gradient, (int, float)) and not 0.0 <= self.last_exit_gradient <= 1.0:
            raise UserError(f"last_exit_gradient must be in [0, 1], got {self.last_exit_gradient}")
        if not 0.0 <= self.exit_ramp <= 1.0:
            raise UserError(f"exit_ramp must be in [0, 1] (a share of the run), got {self.exit_ramp}")
        if not 0.0 <= self.warmup_epochs <= self.epochs:
            raise UserError(f"warmup_epochs must be in 0..epochs ({self.epochs}), got {self.warmup_epochs}")
        if self.compile and self.objective == "sandwich":  # its widths change every step: one compilation per set
            raise UserError("compile applies to the joint objective; the sandwich rule's widths change at every step")
        if self.compile_mode not in COMPILE_MODES:
            raise UserError(f"compile_mode must be one of {tuple(COMPILE_MODES)}, got {self.compile_mode!r}")
        if self.compile_mode != "default" and not self.compile:
            raise UserError(f"compile_mode {self.compile_mode!r} applies to a compiled step: add compile")
        if self.schedule not in SCHEDULES:
            raise UserError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")

    def _check_teacher(self) -> None:
        if self.teacher is not None and not self.teacher.strip():
            raise UserError("teacher must name a run directory or a pretrained weights folder, got an empty string")
        if not 0.0 < self.teacher_weight <= 1.0:
            raise UserError(f"teacher_weight must be in (0, 1], got {self.teacher_weight}")
        if not (math.isfinite(self.teacher_temperature) and self.teacher_temperature > 0):
            raise UserError(f"teacher_temperature must be a positive number, got {self.teacher_temperature}")
        if self.teacher is None:  # a weight or temperature for no teacher would be silently ignored
            changed = [name for name in ("teacher_weight", "teacher_temperature") if getattr(self, name) != getattr(TrainConfig, name)]
            if changed:
                raise UserError(f"{' and '.join(changed)} apply to distillation from a teacher: add teacher")

    def uses_channels_last(self, device: torch.device) -> bool:
        return device.type == "cuda" if self.channels_last is None else self.channels_last

    @property
    def scaled_lr(self) -> float:
        return self.lr * self.batch_size / 128

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        return from_known_fields(cls, {**BEFORE_THE_SETTING_EXISTED, **values})

    @classmethod
    def with_recipe(cls, recipe: str, **settings: Any) -> TrainConfig:
        """A config with a named recipe's settings ("default", or "paper": Eq. 2 as the paper trains it) under `settings`."""
        if recipe not in RECIPES:
            raise UserError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
        return cls(**{**RECIPES[recipe], **settings})

