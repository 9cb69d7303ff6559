"""`dnnet train`: train a preset on a data set into a run directory (or resume one)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import MISSING
from pathlib import Path

from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.data.dispatch import fetch_named
from dnnet.errors import UserError
from dnnet.models import list_models
from dnnet.reporting import plot_accuracy_grid
from dnnet.runs.objective_settings import OBJECTIVES, JointObjective
from dnnet.runs.runtime_settings import RuntimeSettings
from dnnet.runs.setting_field import help_of, metavar_of
from dnnet.runs.train_config import RECIPES, flat_settings, recipe_settings
from dnnet.train import TrainConfig, train
from dnnet.train.config_file import read_config_file
from dnnet.train.run_directory import checkpoint_train_config
from dnnet.utils.device_choice import chosen_device

DEFAULTS = TrainConfig.from_flat()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help=f"the network, one of: {', '.join(list_models())} (default {DEFAULTS.preset})")
    parser.add_argument("--data", default=None,
                        help="cifar10, cifar100, svhn, digits (embedded), or a path to a folder or .tar/.tar.gz of class folders "
                             f"(default {DEFAULTS.dataset.data})")
    parser.add_argument("--data-dir", default=None, help="where named data sets live (default ./data)")
    parser.add_argument("--download", action="store_true", help="fetch a named data set that is not in --data-dir")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default runs/PRESET)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out with its saved config")
    parser.add_argument("--config", type=Path, default=None,
                        help="settings from a TOML file of the fields below (or a run's config.json); flags given here win")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    add_json_flag(parser)
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=None,
                        help="default: a classifier per cell, every cell's loss summed, the other cells pass 1 / (cells - 1) of "
                             "their gradient into the shared layers, the narrower widths at the last exit 2 / (widths - 1); "
                             "paper: per-group classifiers summed over widths and Eq. 2 "
                             "summed over exits, as the paper trains (the flags below override either)")
    defaults = DEFAULTS.to_dict()
    parser.add_argument("--objective", choices=list(OBJECTIVES), default=None,
                        help="joint: every cell from one pass (the paper's Eq. 2 and the recipes below); sandwich: slimmable "
                             f"training of the last exit, which takes none of the joint objective's flags; default {defaults['objective']}")
    for name, field in flat_settings().items():  # every other setting, generated from its field: help, type and default
        if name in ("preset", "data", "data_dir", "objective"):
            continue  # defined above with their help
        flag, default, declared = "--" + name.replace("_", "-"), defaults.get(name), str(field.type)
        if declared.startswith("bool"):  # `bool | None`: None picks per device
            shown = "per device" if default is None else default
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=f"{help_of(field)}default {shown}")
        else:
            kind = {"int": int, "float": float, "str": str, "float | str": number_or_word}[declared.removesuffix(" | None")]
            parser.add_argument(flag, type=kind, default=None, metavar=metavar_of(field), help=f"{help_of(field)}default {default}")


def number_or_word(text: str) -> float | str:
    """A setting that is a number or a word (`--last-exit-gradient 0.3` or `auxiliary`)."""
    try:
        return float(text)
    except ValueError:
        return text  # TrainConfig names the words it takes


def explicit_settings(args: argparse.Namespace, objective: str = "joint") -> dict:
    """The TrainConfig fields given on the command line, over those of the --recipe named that apply to the objective
    (the command line's, else `objective`: the config file's or the resumed run's)."""
    given = {name: getattr(args, name) for name in flat_settings() if getattr(args, name, None) is not None}
    recipe = getattr(args, "recipe", None)
    return {**recipe_settings(recipe, given.get("objective", objective)), **given} if recipe else given


def run(args: argparse.Namespace) -> int:
    chosen_device(args.device)  # a device this machine lacks is refused before anything is read or written
    if args.resume and args.config is not None:
        raise UserError("--resume continues a run with its own saved settings; drop --config")
    if args.resume:
        if args.out is None:
            raise UserError("--resume needs --out, the run directory to continue")
        config = checkpoint_train_config(args.out)
        stored = config.to_dict()
        given = explicit_settings(args, stored["objective"])
        runtime = {f.name: given.pop(f.name) for f in dataclasses.fields(RuntimeSettings) if f.name in given}
        config = dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, **runtime))  # the caller's way
        # a joint knob at its default is no setting of a sandwich run (TrainConfig.from_flat drops it too)
        conflicting = [k for k, v in given.items() if v != stored.get(k, getattr(JointObjective, k, MISSING))]
        if conflicting:
            names = ", ".join(f"{k}={stored[k]!r}" if k in stored else
                              f"{k}={getattr(JointObjective, k)!r} (the {stored['objective']} objective has no {k})"
                              for k in conflicting)
            raise UserError(f"{args.out} holds a run with {names}; --resume continues it with its own settings "
                             "(drop those flags, or train into another --out)")
    else:
        from_file = read_config_file(args.config) if args.config is not None else {}
        config = TrainConfig.from_flat(**{**from_file, **explicit_settings(args, from_file.get("objective", "joint"))})
        note_groups_beyond_preset(config)
    out = args.out or Path("runs") / config.preset
    if args.download:
        fetch_named(config.dataset.data, config.dataset.data_dir)
    summary = train(config, out, resume=args.resume, device=args.device, show_progress=not args.quiet, cache_dir=args.cache_dir)
    if summary:  # the main process: it wrote the grids, and draws them
        val, test = summary["val"], summary["test"]
        for split, accuracy in summary.items():
            plot_accuracy_grid(accuracy, out, split, config.preset)
        result = {"run": str(out), "full_network": {"val_accuracy": val[-1, -1].item(), "test_accuracy": test[-1, -1].item()},
                  "smallest_cell_val_accuracy": val[0, 0].item(),
                  "wrote": [str(out / f"accuracy_{split}.{suffix}") for split in ("val", "test") for suffix in ("csv", "json", "png")]}
        print_result(args, result, lambda: print(
            f"done: {out}; full network val {100 * val[-1, -1]:.2f}%, test {100 * test[-1, -1]:.2f}%; "
            f"smallest cell val {100 * val[0, 0]:.2f}%; accuracy grids in {out}/accuracy_val.* and accuracy_test.*"))
    return 0


def note_groups_beyond_preset(config: TrainConfig) -> None:
    """One line on stderr when --groups widens the preset beyond its own groups: a different, larger network."""
    import torch

    from dnnet.accounting import cell_resources
    from dnnet.models import create_model

    if config.groups is None:
        return
    with torch.device("meta"):  # the architecture only: no memory for weights
        preset, widened = create_model(config.preset).config, create_model(config.preset, groups=config.groups).config
    if widened.groups <= preset.groups:
        return
    channels = "/".join(str(c) for c in widened.stage_channels)
    ratio = cell_resources(widened, *widened.grid_shape).macs / cell_resources(preset, *preset.grid_shape).macs
    print(f"dnnet: --groups {config.groups} widens {config.preset} beyond its {preset.groups} groups: {channels} channels, "
          f"{ratio:.1f}x the preset's MACs", file=sys.stderr)
