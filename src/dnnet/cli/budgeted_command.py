"""`dnnet budgeted`: budgeted batch classification - the test images share an average MAC budget; each stops along the
anytime path at the first step confident enough, with per-step thresholds chosen on validation."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from pathlib import Path

import torch

from dnnet.amounts import format_count
from dnnet.anytime import AnytimeRunner, default_path, path_logits
from dnnet.anytime.budgeted import PathPredictions, budget_sweep, stop_costs
from dnnet.anytime.budgeted_serving import serve_budgeted, serve_budgeted_batches
from dnnet.cli.argument_types import count_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.data.augment import normalize
from dnnet.deploy.request_images import request_images
from dnnet.errors import UserError
from dnnet.evaluation import read_accuracy_grid
from dnnet.provenance import provenance
from dnnet.reporting.budgeted_figure import plot_budgeted
from dnnet.reporting.run_caption import runs_caption
from dnnet.train.run_data import check_same_data, load_run_data
from dnnet.train.run_directory import load_trained_model, train_config_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run (DNNet: its path of cells; depth-only: its exits)")
    parser.add_argument("--avg-macs", type=count_argument, nargs="*", default=None,
                        help="average MAC budgets per image, e.g. 2M 3.5M (default: a sweep from the cheapest stop to the full path)")
    parser.add_argument("--budgets", type=int, default=12, help="how many budgets the default sweep takes (log-spaced)")
    parser.add_argument("--baseline", type=Path, default=None, help="a run on the same data to compare, e.g. a depth-only network")
    parser.add_argument("--serve", type=int, default=0, metavar="N",
                        help="also serve N test images one at a time through the anytime runner with each budget's greedy "
                             "thresholds, and record the MACs and time they took against the plan (default 0: plan only)")
    parser.add_argument("--serve-batch", type=int, default=0, metavar="B",
                        help="serve the same images in batches of B as well, each image leaving its batch at its own stop "
                             "(default 0: one at a time only)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while serving")
    parser.add_argument("--out", type=Path, default=None, help="folder for budgeted.json and budgeted.png (default RUN/budgeted)")
    parser.add_argument("--data-dir", default=None, help="where the runs' named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if args.budgets < 2:
        raise UserError(f"--budgets must be at least 2, got {args.budgets}")
    if args.serve < 0 or args.serve_batch < 0 or not 1 <= args.threads <= (os.cpu_count() or 1):
        raise UserError(f"--serve and --serve-batch must be at least 0 and --threads between 1 and this machine's "
                        f"{os.cpu_count()} cores")
    if args.serve_batch and not args.serve:
        raise UserError("--serve-batch serves the images --serve N chooses: give --serve too")
    runs = {"DNNet": args.run_dir} | ({"baseline": args.baseline} if args.baseline else {})
    loaded = {label: load_trained_model(path) for label, path in runs.items()}
    first_record = loaded["DNNet"][1]
    data = load_run_data(train_config_of(first_record), first_record, args.data_dir, args.cache_dir)
    if len(data.val) == 0:
        raise UserError("the run has no validation split to choose the thresholds on")
    if args.baseline:
        check_same_data(data, loaded["baseline"][1].get("data", {}), str(args.baseline))
    paths = {label: default_path(model.config, read_accuracy_grid(runs[label], "val", model.config.grid_shape))
             for label, (model, _) in loaded.items()}
    costs = {label: stop_costs(loaded[label][0].config, path) for label, path in paths.items()}
    budgets = args.avg_macs or sweep_budgets(costs["DNNet"], args.budgets)
    too_small = [b for b in budgets if b < costs["DNNet"][0].item()]
    if too_small:
        raise UserError(f"an average budget of {format_count(too_small[0])} MACs is below the cheapest stop on the path "
                        f"({format_count(costs['DNNet'][0].item())} MACs: every image reaches the first cell)")
    curves = {}
    for label, (model, record) in loaded.items():
        stats = (record["data"]["mean"], record["data"]["std"])
        val, test = (PathPredictions.from_logits(path_logits(model, normalize(split.images, *stats), paths[label]), split.labels)
                     for split in (data.val, data.test))
        curves[label] = budget_sweep(val, test, costs[label], budgets)
        if args.serve:
            serve_rows(model, paths[label], curves[label], data.test, test, costs[label], stats, args)
    out = args.out or Path(args.run_dir) / "budgeted"
    out.mkdir(parents=True, exist_ok=True)
    result = {"runs": {k: str(v) for k, v in runs.items()}, "paths": {k: [cell_name(*c) for c in p] for k, p in paths.items()},
              "stop_costs": {k: c.tolist() for k, c in costs.items()}, "budgets": list(budgets), "curves": curves,
              "provenance": provenance()}
    (out / "budgeted.json").write_text(json.dumps(result, indent=2) + "\n")
    names = {label: f"{label}: {record['train_config']['preset']}" for label, (_, record) in loaded.items()}
    plot_budgeted({names[label]: rows for label, rows in curves.items()}, out / "budgeted.png",
                  f"budgeted batch classification, test split\n{runs_caption(runs)}".strip())
    print_result(args, {**result, "wrote": [str(out / "budgeted.json"), str(out / "budgeted.png")]},
                 lambda: print_curves(curves, out))
    return 0


def serve_rows(model, path, rows: list[dict], test_split, test: PathPredictions, costs: torch.Tensor, stats, args) -> None:
    """Adds to each greedy row what serving `args.serve` test images with its thresholds took: one at a time, and in
    batches of `args.serve_batch` if given."""
    chosen = request_images(min(args.serve, len(test_split)), len(test_split), 0)  # test sets may be sorted by class
    images, labels = normalize(test_split.images[chosen], *stats), test_split.labels[chosen]
    runner = AnytimeRunner(model, path, compute_ahead="none")  # the plan pays each step's own MACs: nothing ahead
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        for row in rows:
            if row["method"] == "greedy":
                thresholds = torch.tensor(row["thresholds"], dtype=torch.float64)  # as planned, not rounded to float32
                served = serve_budgeted(runner, images, labels, thresholds, costs, test.confidence[chosen])
                row["served_batch_1"] = {"images": len(chosen), "threads": args.threads, **dataclasses.asdict(served)}
                if args.serve_batch:
                    batches = serve_budgeted_batches(runner, images, labels, thresholds, costs, test.confidence[chosen],
                                                     args.serve_batch)
                    row["served_batches"] = {"images": len(chosen), "threads": args.threads, **dataclasses.asdict(batches)}
    finally:
        torch.set_num_threads(previous_threads)


def sweep_budgets(costs: torch.Tensor, count: int) -> list[float]:
    """`count` log-spaced average budgets from the first stop's cost to the whole path's."""
    low, high = math.log(costs[0].item()), math.log(costs[-1].item())
    return [math.exp(low + (high - low) * i / (count - 1)) for i in range(count)]


def print_curves(curves: dict[str, list[dict]], out: Path) -> None:
    for label, rows in curves.items():
        for row in rows:
            if row["method"] == "greedy":
                print(f"{label}: average budget {format_count(row['budget_macs'])} MACs -> test accuracy "
                      f"{100 * row['test_accuracy']:.2f}% at {format_count(row['test_mean_macs'])} MACs on average"
                      + served_text(row.get("served_batch_1"), "one by one", "mean_ms")
                      + served_text(row.get("served_batches"), "in batches", "ms_per_image"))
    print(f"wrote {out}/budgeted.json and budgeted.png")


def served_text(served: dict | None, how: str, time_key: str) -> str:
    if served is None:
        return ""
    return (f"; served {how}: {format_count(served['mean_macs'])} MACs (planned {format_count(served['planned_mean_macs'])}), "
            f"{served[time_key]:.3f} ms per image")
