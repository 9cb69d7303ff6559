"""`dnnet eval`: accuracy of every (depth, width) cell of a trained run, or of a saved network (`--weights`), in one
pass over the data (two with `--tta flip`)."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import torch

from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.data import load_data
from dnnet.errors import UserError
from dnnet.evaluation import NO_TTA, TTA_MODES, grid_accuracy, grid_name, read_optional_grid, write_accuracy_grid
from dnnet.models import DNNet, list_models
from dnnet.models.pretrained_files import CONFIG_FILE
from dnnet.models.shipped_weights import shipped_weights_folder
from dnnet.reporting import plot_accuracy_grid
from dnnet.runs import TrainedRun
from dnnet.runs.split_accuracy import split_accuracy
from dnnet.utils.device_choice import chosen_device
from dnnet.utils.provenance import provenance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", nargs="?", help="a run directory (or give --weights)")
    parser.add_argument("--weights", type=Path, default=None,
                        help="a folder of save_pretrained / `dnnet pretrained`, or a preset with shipped weights, instead of a run: "
                             "prints its grid (needs --data)")
    parser.add_argument("--data", default=None, help="with --weights: the data set to evaluate on (as dnnet train --data)")
    parser.add_argument("--split", choices=["val", "test"], default="val", help="val chooses cells; test is for reporting")
    parser.add_argument("--data-dir", default=None, help="where the run's named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    parser.add_argument("--out", type=Path, default=None,
                        help="a folder for the run's grid as CSV, JSON and heatmap (default: the run's folder when it has no "
                             "such grid yet; a grid it has is compared and left as it is)")
    parser.add_argument("--tta", choices=TTA_MODES, default=NO_TTA,
                        help="test-time augmentation: flip averages every cell's logits over the image and its horizontal "
                             "mirror (two passes); a run's grid then goes to accuracy_SPLIT_tta-flip.csv/.json/.png, beside "
                             "the plain one (default none)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    device = chosen_device(args.device)  # before the run is read: the cheaper mistake is named first
    if (args.run_dir is None) == (args.weights is None):
        raise UserError("give a run directory or --weights DIR, one of the two")
    if args.weights is not None:
        return evaluate_saved_network(args, device)
    if args.data is not None:
        raise UserError("--data goes with --weights; a run evaluates on the data it was trained on")
    run = TrainedRun.open(args.run_dir, args.data_dir, args.cache_dir)
    with run.writing() if args.out is None else nullcontext():  # its grids are the run's: not while it trains
        return evaluate_run(args, run, device)


def evaluate_run(args: argparse.Namespace, run: TrainedRun, device: torch.device) -> int:
    """Evaluates `run` on `args.split`; writes the grid to `args.out`, or into the run when it has none yet (a grid it
    has is compared with this one and left as it is)."""
    model, data, config = run.model, run.data(), run.record.train_config
    warn_if_never_flipped(args.tta, data.flip, args.run_dir)
    accuracy = split_accuracy(model.to(device), config, data, run.record.data.stats, args.split, device, tta=args.tta)
    name = grid_name(args.split, args.tta)
    saved = None if args.out else read_optional_grid(args.run_dir, name, tuple(accuracy.shape))
    if saved is None:
        folder = args.out or args.run_dir
        folder.mkdir(parents=True, exist_ok=True)
        write_accuracy_grid(accuracy, folder, args.split, {"preset": config.preset, "train_config": config.to_dict(),
                                                            "provenance": provenance()}, tta=args.tta)
        plot_accuracy_grid(accuracy, folder, name, config.preset)
        written = [str(folder / f"accuracy_{name}.{suffix}") for suffix in ("csv", "json", "png")]
        said = f"wrote {folder}/accuracy_{name}.csv, .json and .png"
    else:
        written, said = [], compared_with_saved(accuracy, saved, args.run_dir / f"accuracy_{name}.json")

    def for_people() -> None:
        print_grid_summary(accuracy, args.split, args.run_dir, args.tta)
        print(said)
    print_result(args, {**grid_record(accuracy, args.split, args.run_dir, args.tta), "wrote": written}, for_people)
    return 0


def compared_with_saved(accuracy: torch.Tensor, saved: torch.Tensor, path: Path) -> str:
    """One line on how this evaluation compares with the grid the run holds (saved to 6 decimals: equal within that)."""
    gap = 100 * (accuracy.double() - saved).abs().max().item()
    if gap < 1e-3:
        return f"the same as {path}, which is left as it is"
    return (f"up to {gap:.2f} points from {path}, which is left as it is (--out DIR writes this grid; the data or the "
            "weights differ from the evaluation that wrote it)")


def warn_if_never_flipped(tta: str, trained_with_flips: bool, source: Path) -> None:
    """One line on stderr when flip TTA shows a network mirror images it never saw in training (digits: a mirrored
    digit may be another one), which can lower its accuracy."""
    if tta == "flip" and not trained_with_flips:
        print(f"dnnet: {source} was trained without horizontal flips; --tta flip may lower its accuracy", file=sys.stderr)


def evaluate_saved_network(args: argparse.Namespace, device: torch.device) -> int:
    """Every cell of a saved DNNet on `args.data`, with the preprocessing its folder records; nothing is written."""
    if args.data is None:
        raise UserError("--weights needs --data, the data set to evaluate on")
    if not args.weights.exists() and str(args.weights) in list_models(pretrained=True):  # a preset's shipped weights
        args.weights = shipped_weights_folder(str(args.weights))
    model = DNNet.from_pretrained(args.weights).to(device)
    if model.pretrained_cfg is None:
        raise UserError(f"{args.weights / CONFIG_FILE} records no mean, std and image shape: it cannot say how to "
                        "normalise images")
    data = load_data(args.data, args.data_dir, args.cache_dir)
    if data.image_shape != (model.config.in_channels, model.config.image_size, model.config.image_size):
        raise UserError(f"{args.data} has images of shape {data.image_shape}; the network takes "
                        f"{(model.config.in_channels, model.config.image_size, model.config.image_size)}")
    warn_if_never_flipped(args.tta, data.flip, args.weights)
    cfg = model.pretrained_cfg  # the folder's preprocessing, checked when it was loaded
    accuracy = grid_accuracy(model, data.split(args.split), list(cfg.mean), list(cfg.std), device=device, tta=args.tta)
    print_result(args, grid_record(accuracy, args.split, args.weights, args.tta),
                 lambda: print_grid_summary(accuracy, args.split, args.weights, args.tta))
    return 0


def grid_record(accuracy: torch.Tensor, split: str, source: Path, tta: str = NO_TTA) -> dict:
    """--json: every cell's accuracy, rows by exit (depth) and columns by width, as `accuracy_SPLIT.json` holds it."""
    return {"source": str(source), "split": split, "tta": tta, "full_network": round(accuracy[-1, -1].item(), 6),
            "mean_over_cells": round(accuracy.mean().item(), 6), "accuracy": [[round(v, 6) for v in row] for row in accuracy.tolist()]}


def print_grid_summary(accuracy: torch.Tensor, split: str, run_dir: Path, tta: str = NO_TTA) -> None:
    depths, widths = accuracy.shape
    split = split if tta == NO_TTA else f"{split} ({tta} TTA)"
    print(f"{split} accuracy of the full network ({cell_name(depths, widths)}): {100 * accuracy[-1, -1]:.2f}%")
    mid_d, mid_w = (depths + 1) // 2, (widths + 1) // 2
    for d, w in [(1, 1), (1, widths), (depths, 1), (mid_d, mid_w), (depths, mid_w), (mid_d, widths)]:
        print(f"  {cell_name(d, w)}: {100 * accuracy[d - 1, w - 1]:.2f}%")
    print(f"  mean over all {depths * widths} cells: {100 * accuracy.mean():.2f}%")
