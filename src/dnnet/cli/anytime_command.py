"""`dnnet anytime`: serve test images one at a time with the anytime runner, early stop chosen on validation."""

from __future__ import annotations

import argparse
import json
import math
from contextlib import nullcontext
from pathlib import Path

import torch

from dnnet.anytime import COMPUTE_AHEAD, AnytimeRunner, choose_threshold, path_logits, serve_one_by_one
from dnnet.anytime.path_choice import PATH_SPELLING, describe_path, path_record
from dnnet.anytime.runner import DEFAULT_COMPUTE_AHEAD
from dnnet.cli.argument_types import path_argument, seed_argument
from dnnet.cli.compute_arguments import torch_threads
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.deploy.request_images import request_images
from dnnet.errors import UserError
from dnnet.runs import TrainedRun
from dnnet.runs.fresh_names import unused_name
from dnnet.utils.provenance import provenance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run")
    parser.add_argument("--images", type=int, default=1000, help="test images served, one request each")
    parser.add_argument("--seed", type=seed_argument, default=0, help="which test images: a random order drawn with this seed")
    parser.add_argument("--deadline-ms", type=float, default=None, help="also serve with this deadline per request")
    parser.add_argument("--tolerance", type=float, default=0.005,
                        help="validation accuracy the early stop may lose against walking the whole path (0.005 = half a point)")
    parser.add_argument("--path", type=path_argument, default="auto",
                        help=f"the walk through the grid: {PATH_SPELLING} (default auto: the path with the best mean "
                             "validation accuracy over a log-MAC axis, found exactly)")
    parser.add_argument("--compute-ahead", choices=COMPUTE_AHEAD, default=DEFAULT_COMPUTE_AHEAD,
                        help="widening: a run of widening steps in its first step (default); all: each layer once, as wide "
                             "as the path needs it; none: each step only its own cell (docs/benchmarks.md)")
    parser.add_argument("--out", type=Path, default=None, help="the file to write (default a new file in the run: anytime.json, "
                        "then anytime-2.json ..., never over an earlier result; the run's report shows the newest)")
    parser.add_argument("--data-dir", default=None, help="where the run's named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if args.images < 1:
        raise UserError(f"--images must be at least 1, got {args.images}")
    if args.deadline_ms is not None and not (math.isfinite(args.deadline_ms) and args.deadline_ms > 0):
        raise UserError(f"--deadline-ms must be a positive number, got {args.deadline_ms}")
    if not 0.0 <= args.tolerance <= 1.0:  # a share of accuracy; also false for NaN
        raise UserError(f"--tolerance must be in [0, 1], got {args.tolerance}")
    run = TrainedRun.open(args.run_dir, args.data_dir, args.cache_dir)
    with run.writing() if args.out is None else nullcontext():  # RUN/anytime.json: not while the run trains
        return serve_run(args, run)


def serve_run(args: argparse.Namespace, run: TrainedRun) -> int:
    """Chooses the early stop on validation, serves test images one by one and writes the result."""
    model, data = run.model, run.data()
    if len(data.val) == 0:
        raise UserError("the run has no validation split to choose the early stop on")
    val_grid, test_grid = run.grid("val"), run.optional_grid("test")
    runner = AnytimeRunner(model, args.path, compute_ahead=args.compute_ahead, accuracy=val_grid)
    path = runner.path
    stop = choose_threshold(path_logits(model, run.normalize(data.val.images), path), data.val.labels, args.tolerance)
    chosen = request_images(min(args.images, len(data.test)), len(data.test), args.seed)  # test sets may be sorted by class
    images, labels = run.normalize(data.test.images[chosen]), data.test.labels[chosen]
    settings = {"whole path": {}, f"early stop at confidence {stop.threshold}": {"confidence": stop.threshold}}
    if args.deadline_ms is not None:
        settings[f"early stop and a {args.deadline_ms} ms deadline"] = {"confidence": stop.threshold, "deadline_s": args.deadline_ms / 1e3}
    with torch.no_grad(), torch_threads(args.threads):  # the timed part, on --threads threads
        served = {name: summary.as_dict() for name, summary in serve_one_by_one(runner, images, labels, settings).items()}
    result = {"path": [cell_name(*cell) for cell in path],
              "path_choice": path_record(runner.chosen_path, model.config, val_grid, test_grid), "threshold": stop.threshold,
              "validation": {"accuracy_whole_path": stop.full_path_accuracy, "accuracy_early_stop": stop.accuracy,
                             "mean_steps_early_stop": stop.mean_steps},
              "settings": {"images": len(images), "image_seed": args.seed, "threads": args.threads, "tolerance": args.tolerance,
                           "compute_ahead": args.compute_ahead,
                           "deadline_ms": args.deadline_ms},
              "served": served, "provenance": provenance()}
    out = args.out or Path(args.run_dir) / f"{unused_name(args.run_dir, 'anytime', ['.json'])}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    def for_people() -> None:
        print(f"path of {len(path)} cells ({describe_path(result['path_choice'])}); early stop at confidence {stop.threshold} "
              f"(validation: {100 * stop.accuracy:.2f}% in {stop.mean_steps:.1f} steps against {100 * stop.full_path_accuracy:.2f}%)")
        for name, summary in served.items():
            print(f"{name}: test accuracy {100 * summary['accuracy']:.2f}% over {summary['requests']} images, "
                  f"{summary['mean_steps']:.1f} steps, {summary['median_ms']:.3f} ms median ({summary['p95_ms']:.3f} ms p95)")
        print(f"wrote {out}")
    print_result(args, {**result, "wrote": str(out)}, for_people)
    return 0
