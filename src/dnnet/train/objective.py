"""What a training step optimises: the forward pass over the trained cells, and the loss weights of each step."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.data import NAMED
from dnnet.errors import UserError
from dnnet.layers.width_conditioned_batchnorm import restore_conditioning_gradients
from dnnet.loss import JointLoss, cell_weights
from dnnet.loss.exit_schedule import exit_ramp
from dnnet.loss.gradient_equilibrium import equilibrium_shares
from dnnet.loss.joint_loss import loss_coefficients
from dnnet.models.dnnet import DNNet
from dnnet.runs.data_settings import DataSettings
from dnnet.runs.objective_settings import JointObjective
from dnnet.runs.train_config import SAME_AS_AUXILIARY, TrainConfig
from dnnet.train.random_streams import random_stream
from dnnet.train.sandwich import sandwich_loss, sandwich_widths


def resolve_weighting(config: NetConfig, weighting: str) -> str:
    """weighting="auto": every cell of a DNNet, the last exit of a plain network, every exit of a depth-only one."""
    if weighting != "auto":
        return weighting
    if config.causal:
        return "uniform"
    return "final" if config.exits == "last" else "depth_only"


class TrainingForward(nn.Module):
    """The forward pass of a training step as one module, so that DistributedDataParallel wraps it for every objective.

    `forward(x)` -> the logits of every trained cell: from one pass (`forward_all`) for a causal
    network, or, when only the full width is trained (plain or depth-only training), from one
    full-width pass (`forward_exits`; a dense network's `forward_all` runs one pass per width).
    `forward(x, widths)` -> (N, 1, k, classes): the last exit of the k given widths (the sandwich rule).
    `head_gradient_shares`: how each exit's feature gradient is shared (gradient equilibrium), see `DNNet.exit_features`.
    `feature_gradient`: (depths, widths) factors by which each trained cell's gradient reaches the shared layers, see
    `DNNet.forward_all` (auxiliary_gradient).
    """

    def __init__(self, model: DNNet, full_width_only: bool = False, head_gradient_shares: list[float] | None = None,
                 feature_gradient: list[list[float]] | None = None) -> None:
        super().__init__()
        self.model = model
        self.full_width_only = full_width_only
        self.head_gradient_shares = head_gradient_shares
        self.feature_gradient = feature_gradient

    def forward(self, x: torch.Tensor, widths: list[int] | None = None) -> torch.Tensor:
        if widths is not None:
            return torch.stack([self.model.forward_exits(x, w)[:, -1] for w in widths], dim=1)[:, None]
        if self.full_width_only:
            per_exit = None if self.feature_gradient is None else [row[-1] for row in self.feature_gradient]
            return self.model.forward_exits(x, head_gradient_shares=self.head_gradient_shares,
                                            feature_gradient=per_exit)[:, :, None]  # (N, depths, 1, classes)
        return self.model.forward_all(x, head_gradient_shares=self.head_gradient_shares, feature_gradient=self.feature_gradient)


@dataclass(frozen=True)
class StepPlan:
    """What one training step runs: the widths of the sandwich rule, or the multipliers of the cells' losses."""

    widths: list[int] | None = None  # None: every cell the objective trains, from one pass
    coefficients: torch.Tensor | None = None  # None: the loss's own (see `loss_coefficients`)


def trained_weights(model_config: NetConfig, config: TrainConfig) -> torch.Tensor:
    """The weights lambda of the cells a joint run trains, before sampling and ramps, as the loss sees them:
    (depths, widths), or (depths, 1) when only the full width is trained (one full-width pass gives those)."""
    weights = cell_weights(model_config, resolve_weighting(model_config, config.objective.weighting))
    if config.objective.drop_stem_exit:
        weights[0] = 0.0  # the stem alone classifies poorly, and its loss pulls the first layer towards it
    return weights[:, -1:] if weights[:, :-1].sum() == 0 else weights


def check_recipe(model_config: NetConfig, config: TrainConfig) -> None:
    """Refuses joint-objective options that would do nothing for this network, rather than ignore them (the sandwich
    rule has no such options: its type has no field for them)."""
    objective = config.objective
    if objective.kind == "sandwich":
        return
    # the default's factor is part of the recipe, not a request: only a number is refused where it does nothing
    weighting = resolve_weighting(model_config, objective.weighting)
    if objective.width_samples and (weighting in ("final", "depth_only") or not model_config.causal):
        raise UserError(f"width_samples needs a network trained at every width; weighting {weighting!r} trains the full width only")
    if objective.width_samples and model_config.width_conditioning:  # it would still run (and pay for) every width's pass
        raise UserError("width_samples with width_conditioning is not supported: every width would still be computed")
    if objective.width_samples and objective.width_samples >= model_config.groups - 2:
        raise UserError(f"width_samples={objective.width_samples} would sample every width of {model_config.groups} groups; "
                        f"use at most {model_config.groups - 3}, or 0 to train every width")
    if isinstance(objective.last_exit_gradient, (int, float)) and (weighting in ("final", "depth_only") or not model_config.causal):
        raise UserError(f"last_exit_gradient needs a causal network trained at every width; weighting {weighting!r} "
                        "trains the full width only")
    if objective.drop_stem_exit and model_config.exit_blocks[0] != 0:
        raise UserError("drop_stem_exit needs an exit after the stem; this network has exits after its last block only")


def trains_the_same(saved: TrainConfig, wanted: TrainConfig, model_config: NetConfig) -> bool:
    """Equal configs once each is read as its run trains: the gradient factors as resolved (a rule's value and the
    same number given by hand are one training; a factor for cells a run does not train is no setting at all), a data
    path and a teacher's folder resolved, data_dir only for a named data set. A run saved before a recipe setting
    existed, or with another default, is still the run asked for when it trained the same way."""
    return _as_trained(saved, model_config) == _as_trained(wanted, model_config)


def _as_trained(config: TrainConfig, model_config: NetConfig) -> tuple[TrainConfig, list[list[float]] | None]:
    """`config` with the gradient factors replaced by the table `build_objective` trains with, and its data resolved."""
    table, objective, dataset, targets = None, config.objective, config.dataset, config.targets
    if objective.kind == "joint":
        weights = trained_weights(model_config, config)
        table = auxiliary_gradient_table(tuple(weights.shape), auxiliary_gradient_factor(weights, objective.auxiliary_gradient),
                                         last_exit_gradient_factor(weights, objective.last_exit_gradient))
        objective = dataclasses.replace(objective, auxiliary_gradient=JointObjective.auxiliary_gradient,
                                        last_exit_gradient=JointObjective.last_exit_gradient)
    if dataset.data not in NAMED:  # where named data sets live is unread for a path
        dataset = dataclasses.replace(dataset, data=str(Path(dataset.data).resolve()), data_dir=DataSettings.data_dir)
    if targets.teacher is not None:  # a folder, however it was spelled
        targets = dataclasses.replace(targets, teacher=str(Path(targets.teacher).resolve()))
    return dataclasses.replace(config, objective=objective, dataset=dataset, targets=targets), table


def build_objective(model: DNNet, config: TrainConfig) -> tuple[TrainingForward, JointLoss]:
    """The forward module to run and the joint loss over its output (for "sandwich", given the planned widths)."""
    check_recipe(model.config, config)
    # what every cell's loss is measured against besides the labels (the teacher's weight counts only with a teacher)
    given = config.targets
    targets = {"label_smoothing": given.label_smoothing, "teacher_weight": given.teacher_weight if given.teacher else 0.0,
               "teacher_temperature": given.teacher_temperature}
    if config.objective.kind == "sandwich":
        return TrainingForward(model), sandwich_loss(model, **targets)
    weights = trained_weights(model.config, config)
    shares = equilibrium_shares((weights.sum(1) > 0).tolist()) if config.objective.gradient_equilibrium else None
    loss = JointLoss(weights, config.objective.distill_weight, config.objective.distill_temperature, config.objective.loss_scale, **targets)
    factors = auxiliary_gradient_table(tuple(weights.shape), auxiliary_gradient_factor(weights, config.objective.auxiliary_gradient),
                                       last_exit_gradient_factor(weights, config.objective.last_exit_gradient))
    if model.config.width_conditioning:  # each width's own parameters, like its classifiers, learn at their cells' rate
        restore_conditioning_gradients(model, [1.0] * model.config.groups if factors is None else factors[-1])
    return TrainingForward(model, full_width_only=weights.shape[1] == 1, head_gradient_shares=shares,
                           feature_gradient=factors), loss


def auxiliary_gradient_factor(weights: torch.Tensor, factor: float | None) -> float:
    """`factor`, or when None 1 / (trained cells - 1): the other cells together then pass the shared layers about as
    much gradient as the full network's own loss. The factor measured best on both sides (the full network and the
    others) was 0.01 for 80 cells and 0.003 for 352 (docs/history.md, "Training recipe"): 1/79 and 1/351."""
    if factor is not None:
        return factor
    trained_cells = int((weights > 0).sum())
    return 1.0 if trained_cells < 2 else 1.0 / (trained_cells - 1)


def last_exit_gradient_factor(weights: torch.Tensor, factor: float | str | None) -> float | None:
    """The narrower widths' factor at the last exit; None: the auxiliary factor's (asked for by "auxiliary", or when
    only the full width is trained). Unset: 2 / (widths - 1), so that together they pass about twice the full
    network's gradient: measured best at 0.3 for the cpu protocol's 8 widths (docs/history.md, "Training recipe")."""
    if isinstance(factor, (int, float)):
        return float(factor)
    widths = weights.shape[1]
    return None if factor == SAME_AS_AUXILIARY or widths < 2 else 2.0 / (widths - 1)


def auxiliary_gradient_table(shape: tuple[int, int], factor: float,
                             last_exit_factor: float | None = None) -> list[list[float]] | None:
    """(depths, widths) factors: 1 for the full network (the last cell), `last_exit_factor` (None: `factor`) for the
    narrower widths at the last exit, `factor` for every other cell; None when all 1."""
    last_row = [factor if last_exit_factor is None else last_exit_factor] * (shape[1] - 1) + [1.0]
    table = [[factor] * shape[1] for _ in range(shape[0] - 1)] + [last_row]
    return None if all(f == 1.0 for row in table for f in row) else table


@dataclass(frozen=True)
class StepPlanner:
    """What each step of a run trains, as a pure function of (global step, progress): a resumed run plans the same steps."""

    config: TrainConfig
    groups: int
    weights: torch.Tensor | None  # lambda of a joint run, computed once; None for the sandwich rule

    @classmethod
    def for_run(cls, config: TrainConfig, model_config: NetConfig) -> StepPlanner:
        check_recipe(model_config, config)
        weights = None if config.objective.kind == "sandwich" else trained_weights(model_config, config)
        return cls(config, model_config.groups, weights)

    def plan(self, global_step: int, progress: float) -> StepPlan:
        """Step `global_step` (since the run began), `progress` (0..1) into the run."""
        config = self.config
        if config.objective.kind == "sandwich":
            return StepPlan(widths=sandwich_widths(self.groups, config.seed, global_step))
        if not config.objective.width_samples and not config.objective.exit_ramp:
            return StepPlan()
        weights = self.weights
        if config.objective.width_samples:
            weights = weights * width_mask(self.groups, config.objective.width_samples, config.seed, global_step)
        coefficients = loss_coefficients(weights, config.objective.loss_scale)
        if config.objective.exit_ramp:  # after the reduction, so that the ramp damps early exits instead of raising the last
            coefficients = coefficients * exit_ramp(len(weights), progress, config.objective.exit_ramp)[:, None]
        return StepPlan(coefficients=coefficients)


def width_mask(groups: int, samples: int, seed: int, global_step: int) -> torch.Tensor:
    """(groups,) 0/1: the widths one step trains - the narrowest, the full width and `samples` others at random
    (the sandwich rule over every exit; one pass still computes every cell, only the losses that count change)."""
    middle = torch.arange(2, groups)
    order = torch.randperm(len(middle), generator=random_stream(seed, "width_samples", global_step))
    mask = torch.zeros(groups)
    mask[[0, groups - 1]] = 1.0
    mask[middle[order[:samples]] - 1] = 1.0
    return mask
