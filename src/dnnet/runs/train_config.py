"""Every setting of a training run: the network, then one typed part per concern (data, optimiser, objective, targets,
execution, runtime), frozen and saved beside the run.

A run's config.json, a TOML file and the command line name each setting by one flat name (`lr`, `exit_ramp`): the
one converter between that flat form and the parts is `TrainConfig.from_flat` / `to_dict`. A setting that does not
apply (a joint knob under the sandwich rule) cannot be written: the sandwich objective has no such field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from dnnet.config import DEFAULT_PRESET
from dnnet.errors import UserError
from dnnet.runs.data_settings import DataSettings
from dnnet.runs.objective_settings import LOSS_SCALES, OBJECTIVES, SAME_AS_AUXILIARY, JointObjective, Objective, knobs_it_lacks
from dnnet.runs.optimiser_settings import SCHEDULES, OptimiserSettings
from dnnet.runs.runtime_settings import COMPILE_MODES, ExecutionSettings, RuntimeSettings
from dnnet.runs.setting_field import setting
from dnnet.runs.target_settings import TargetSettings
from dnnet.utils.amounts import SEED_LIMIT
from dnnet.utils.strict_fields import check_known_keys

__all__ = ["BEFORE_THE_SETTING_EXISTED", "COMPILE_MODES", "LOSS_SCALES", "OBJECTIVES", "PAPER_RECIPE", "RECIPES",
           "SAME_AS_AUXILIARY", "SCHEDULES", "TrainConfig", "flat_settings", "recipe_settings"]

# The paper's training, the default until the recipe study (docs/history.md, "Training recipe"): per-group
# classifiers summed over widths, every cell's loss at weight 1 / (number of cells) per exit, all passed whole
PAPER_RECIPE = {"cell_heads": False, "loss_scale": "depths", "auxiliary_gradient": 1.0, "last_exit_gradient": "auxiliary"}
RECIPES = {"default": {"cell_heads": True, "loss_scale": "cells", "auxiliary_gradient": None, "last_exit_gradient": None},
           "paper": PAPER_RECIPE}
# what a run saved before a setting existed was trained with (its config.json lacks the key)
BEFORE_THE_SETTING_EXISTED = {"cell_heads": False, "auxiliary_gradient": 1.0, "last_exit_gradient": "auxiliary"}

# the typed parts, by their attribute on TrainConfig (the objective apart: its type depends on its kind)
PARTS = {"dataset": DataSettings, "optimiser": OptimiserSettings, "targets": TargetSettings, "execution": ExecutionSettings,
         "runtime": RuntimeSettings}


@dataclass(frozen=True)
class TrainConfig:
    preset: str = setting(DEFAULT_PRESET, "the network, a name from dnnet.list_models(); ")
    groups: int | None = setting(None, "channel groups of every layer (the preset's when unset; fewer: the same network, "
                                       "narrower); ")
    cell_heads: bool = setting(True, "a network trained at every width gets a classifier per cell, not per-group ones "
                                     "summed over widths; ")
    width_conditioning: bool = setting(False, "every batch norm gets a scale, shift and statistics per width (adaptive "
                                              "conditioning): each width trains in its own pass, and the anytime runner "
                                              "cannot widen a cell; ")
    seed: int = setting(0, "initialisation, validation split, shuffling and augmentation; ")
    dataset: DataSettings = field(default_factory=DataSettings)
    optimiser: OptimiserSettings = field(default_factory=OptimiserSettings)
    objective: Objective = field(default_factory=JointObjective)
    targets: TargetSettings = field(default_factory=TargetSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"seed must be a whole number from 0 to 2**63 - 1, got {self.seed!r}")
        if self.groups is not None and self.groups < 1:
            raise UserError(f"groups must be at least 1, got {self.groups}")
        if self.runtime.compile and self.objective.kind == "sandwich":  # its widths change every step: one compilation per set
            raise UserError("compile applies to the joint objective; the sandwich rule's widths change at every step")

    @classmethod
    def from_flat(cls, **settings: Any) -> TrainConfig:
        """The config that flat settings describe (the names of `dnnet train`'s flags and of config.json); an unknown
        name, or a joint objective's knob under the sandwich rule, is a UserError naming it."""
        check_known_keys(cls.__name__, settings, flat_settings())
        kind = settings.pop("objective", "joint")
        if kind not in OBJECTIVES:
            raise UserError(f"objective must be one of {tuple(OBJECTIVES)}, got {kind!r}")
        objective_type, knobs = OBJECTIVES[kind], knobs_it_lacks(kind)
        # a knob the objective lacks, at its default (from a recipe, a run's config.json, `replaced`), is no setting;
        # another value would be silently ignored: refused
        foreign = [name for name in settings if name in knobs and settings[name] != getattr(JointObjective, name)]
        if foreign:
            raise UserError(f"{', '.join(foreign)} apply to the joint objective; the sandwich rule trains the last exit only")
        settings = {name: value for name, value in settings.items() if name not in knobs}
        parts = {attribute: part(**{f.name: settings.pop(f.name) for f in dataclasses.fields(part) if f.name in settings})
                 for attribute, part in PARTS.items()}
        own = {f.name for f in dataclasses.fields(objective_type)}
        objective = objective_type(**{name: settings.pop(name) for name in own if name in settings})
        return cls(**settings, objective=objective, **parts)

    def to_dict(self) -> dict[str, Any]:
        """Every setting by its flat name, as config.json stores it (`from_dict` reads it back)."""
        top = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in PARTS and f.name != "objective"}
        parts = {name: value for attribute in PARTS for name, value in dataclasses.asdict(getattr(self, attribute)).items()}
        return {**top, **parts, "objective": self.objective.kind, **dataclasses.asdict(self.objective)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config as a run saved it, in any version: a setting added since is read as such runs trained, and a
        sandwich run's joint knobs (saved at their defaults before the objectives had types; they did nothing) are
        dropped."""
        values = {**BEFORE_THE_SETTING_EXISTED, **values}
        lacks = knobs_it_lacks(values.get("objective", "joint"))
        values = {name: value for name, value in values.items() if name not in lacks}
        return cls.from_flat(**values)

    def replaced(self, **settings: Any) -> TrainConfig:
        """This config with some flat settings changed (`config.replaced(epochs=1, seed=2)`)."""
        return TrainConfig.from_flat(**{**self.to_dict(), **settings})

    @classmethod
    def with_recipe(cls, recipe: str, **settings: Any) -> TrainConfig:
        """A config with a named recipe's settings ("default", or "paper": Eq. 2 as the paper trains it) under `settings`."""
        return cls.from_flat(**{**recipe_settings(recipe, settings.get("objective", "joint")), **settings})

    def uses_channels_last(self, device: torch.device) -> bool:
        """The memory format of the run's activations on `device` (with torch's thread count at the time of the call)."""
        channels_last = self.execution.channels_last
        return channels_last_is_faster(device) if channels_last is None else channels_last


def channels_last_is_faster(device: torch.device) -> bool:
    """The measured rule (docs/benchmarks.md, "Memory format"): channels-last on a GPU and on a CPU running one thread,
    where it made every training step measured 0.73-0.91x as long; NCHW on a CPU with more threads, where two threads
    made the CPU protocol's steps 1.26-2.34x as long in channels-last."""
    return device.type == "cuda" or (device.type == "cpu" and torch.get_num_threads() == 1)


def recipe_settings(recipe: str, objective: str = "joint") -> dict[str, Any]:
    """A named recipe's settings that apply to `objective`: the sandwich rule takes its classifiers, not its joint knobs."""
    if recipe not in RECIPES:
        raise UserError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    lacks = knobs_it_lacks(objective)
    return {name: value for name, value in RECIPES[recipe].items() if name not in lacks}


def flat_settings() -> dict[str, dataclasses.Field | None]:
    """Every flat setting name -> its field (its type, default and help); "objective", the kind, has no field."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig) if f.name not in PARTS and f.name != "objective"}
    for part in (*PARTS.values(), JointObjective):
        fields |= {f.name: f for f in dataclasses.fields(part)}
    return {**fields, "objective": None}
