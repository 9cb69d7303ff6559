"""`dnnet train`: train a preset on a data set into a run directory (or resume one)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.data.dispatch import fetch_named
from dnnet.errors import UserError
from dnnet.models import list_models
from dnnet.reporting import plot_accuracy_grid
from dnnet.train import TrainConfig, train
from dnnet.train.config_file import read_config_file
from dnnet.train.run_directory import checkpoint_train_config
from dnnet.train.train_config import RECIPES, RUNTIME_SETTINGS
from dnnet.utils.device_choice import chosen_device

DEFAULTS = TrainConfig()


FLAG_HELP = {  # what each setting does, beside its default
    "groups": "channel groups of every layer (the preset's when unset; fewer: the same network, narrower); ",
    "objective": "joint: every cell from one pass (the paper's Eq. 2 and the recipes below); sandwich: slimmable "
                 "training of the last exit; ",
    "epochs": "passes over the training split; ",
    "batch_size": "global batch, split across processes when distributed; ",
    "lr": "learning rate per 128 images, scaled linearly with --batch-size; ",
    "momentum": "SGD momentum; ",
    "nesterov": "Nesterov momentum; ",
    "weight_decay": "on every parameter; ",
    "schedule": "step: x0.1 at 50%% and 75%% of the epochs; cosine: to 0 along half a cosine; ",
    "distill_temperature": "softmax temperature of the self-distillation; ",
    "val_count": "images held out of the training split to choose cells (the data set's default when unset); ",
    "seed": "initialisation, validation split, shuffling and augmentation; ",
    "amp": "bfloat16 autocast on a GPU (ignored on the CPU); ",
    "channels_last": "memory format of activations (unset: on GPUs only); ",
    "eval_batch_size": "batch of the evaluations after each epoch and at the end; ",
    "cell_heads": "a network trained at every width gets a classifier per cell, not per-group ones summed over widths; ",
    "width_conditioning": "every batch norm gets a scale, shift and statistics per width (adaptive conditioning): each "
                          "width trains in its own pass, and the anytime runner cannot widen a cell; ",
    "loss_scale": "eq2: the paper's Eq. 2; depths: summed over exits; cells: every cell's loss summed; ",
    "weighting": "uniform, macs, final, depth_only, half_final or auto; ",
    "gradient_equilibrium": "each exit's feature gets the mean of the later exits' gradients; ",
    "width_samples": "each step trains every exit at the narrowest, the full and this many random widths (0: all); ",
    "auxiliary_gradient": "the factor by which every cell but the full network passes its gradient into the shared "
                          "layers (their heads learn at the full rate); unset: 1 / (trained cells - 1); ",
    "last_exit_gradient": "the same for the narrower widths at the last exit: a number, or 'auxiliary' for the factor above "
                          "(the default before this setting); unset: 2 / (widths - 1); ",
    "exit_ramp": "share of the run over which early exits' loss weights rise from 0.01 to 1; ",
    "drop_stem_exit": "no loss at the exit after the stem; ",
    "warmup_epochs": "the learning rate rises linearly from 0 over this many epochs; ",
    "distill_weight": "self-distillation of every cell from the full network; ",
    "label_smoothing": "every cell's cross-entropy (the sandwich rule's too) against (1 - EPS) x the one-hot label + EPS / classes, "
                       "EPS in [0, 1); ",
    "teacher": "a finished run directory or a pretrained weights folder (dnnet pretrained): every trained cell also "
               "learns from its full network's logits on the same augmented batch (its forward time per epoch is the "
               "metrics' teacher_seconds); ",
    "teacher_weight": "with --teacher, each cell's loss is (1 - W) x its own + W x T^2 KL(teacher || cell), W in (0, 1]; ",
    "teacher_temperature": "with --teacher, the temperature T of both softmaxes; ",
    "ema": "an exponential moving average of the weights, updated after every optimizer step with this decay, e.g. "
           "0.999 (0: off); batch norm's running statistics are averaged too; the average is what each epoch "
           "validates, the final grids evaluate and the run loads as its trained model, the checkpoint keeping the "
           "optimizer's weights to resume; ",
    "skip_bad_images": "an image folder's images that cannot be decoded are left out (counted in config.json) "
                       "instead of stopping the run with their paths; ",
    "image_size": "every image fitted to an N x N square: the short side resized to N (bilinear), the centre cropped; "
                  "images of several sizes become one data set; recorded in config.json, applied alike by eval and by "
                  "the weights' preprocessing (model.pretrained_cfg.prepare); ",
    "tensorboard": "each epoch's metrics also as TensorBoard scalars in OUT/tensorboard (pip extra 'tensorboard'); ",
    "compile": "the training step through torch.compile: fused kernels, for GPUs, where launching kernels bounds a step "
               "(the same losses to rounding; training goes on eagerly if compiling fails; a resume may change it); ",
    "compile_mode": "with --compile: default, or cuda-graphs (the compiled step's kernels replayed as CUDA graphs, "
                    "a GPU only); ",
}


METAVARS = {"teacher": "RUN_OR_PRETRAINED", "ema": "DECAY", "label_smoothing": "EPS", "teacher_weight": "W",
            "teacher_temperature": "T"}  # where the help names the value (None: argparse's, the flag's name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None, help=f"the network, one of: {', '.join(list_models())} (default {DEFAULTS.preset})")
    parser.add_argument("--data", default=None,
                        help="cifar10, cifar100, svhn, digits (embedded), or a path to a folder or .tar/.tar.gz of class folders "
                             f"(default {DEFAULTS.data})")
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
    for field in dataclasses.fields(TrainConfig):  # every other setting, with its default (and a word where a name is not enough)
        if field.name in ("preset", "data", "data_dir"):
            continue  # defined above with their help
        flag = "--" + field.name.replace("_", "-")
        default = getattr(DEFAULTS, field.name)
        if isinstance(default, bool) or str(field.type).startswith("bool"):  # `bool | None`: None picks per device
            shown = "on GPU only" if default is None else default
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{FLAG_HELP.get(field.name, '')}default {shown}")
        else:
            kind = {"int | None": int, "float | None": float, "str | None": str,
                    "float | str | None": number_or_word}.get(str(field.type), type(default))
            parser.add_argument(flag, type=kind, default=None, metavar=METAVARS.get(field.name),
                                help=f"{FLAG_HELP.get(field.name, '')}default {default}")


def number_or_word(text: str) -> float | str:
    """A setting that is a number or a word (`--last-exit-gradient 0.3` or `auxiliary`)."""
    try:
        return float(text)
    except ValueError:
        return text  # TrainConfig names the words it takes


def explicit_settings(args: argparse.Namespace) -> dict:
    """The TrainConfig fields given on the command line, over those of the --recipe named."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if getattr(args, f.name, None) is not None}
    recipe = getattr(args, "recipe", None)
    return {**RECIPES[recipe], **given} if recipe else given


def run(args: argparse.Namespace) -> int:
    chosen_device(args.device)  # a device this machine lacks is refused before anything is read or written
    if args.resume and args.config is not None:
        raise UserError("--resume continues a run with its own saved settings; drop --config")
    if args.resume:
        if args.out is None:
            raise UserError("--resume needs --out, the run directory to continue")
        config = checkpoint_train_config(args.out)
        stored, given = config.to_dict(), explicit_settings(args)
        config = dataclasses.replace(config, **{k: given.pop(k) for k in RUNTIME_SETTINGS if k in given})
        conflicting = [k for k, v in given.items() if v != stored[k]]
        if conflicting:
            names = ", ".join(f"{k}={stored[k]!r}" for k in conflicting)
            raise UserError(f"{args.out} holds a run with {names}; --resume continues it with its own settings "
                             "(drop those flags, or train into another --out)")
    else:
        from_file = read_config_file(args.config) if args.config is not None else {}
        config = TrainConfig(**{**from_file, **explicit_settings(args)})
        note_groups_beyond_preset(config)
    out = args.out or Path("runs") / config.preset
    if args.download:
        fetch_named(config.data, config.data_dir)
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
    channels = "/".join(str(widened.groups * c) for c in widened.group_channels)
    ratio = cell_resources(widened, *widened.grid_shape).macs / cell_resources(preset, *preset.grid_shape).macs
    print(f"dnnet: --groups {config.groups} widens {config.preset} beyond its {preset.groups} groups: {channels} channels, "
          f"{ratio:.1f}x the preset's MACs", file=sys.stderr)
