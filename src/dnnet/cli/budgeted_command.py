"""`dnnet budgeted`: budgeted batch classification - the test images share an average MAC budget; each stops along the
anytime path at the first step confident enough, with per-step thresholds chosen on validation."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from dnnet.anytime import AnytimeRunner, path_logits
from dnnet.anytime.budgeted import PathPredictions, budget_sweep, stop_costs
from dnnet.anytime.budgeted_path import SCORED_METHOD, best_candidate, candidate_paths, mean_accuracy, shared_budgets
from dnnet.anytime.budgeted_serving import serve_budgeted, serve_budgeted_batches
from dnnet.anytime.path_choice import PATH_SPELLING, describe_path, path_record
from dnnet.cli.argument_types import count_argument, path_argument
from dnnet.cli.compute_arguments import torch_threads
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.deploy.request_images import request_images
from dnnet.errors import UserError
from dnnet.reporting.anytime_path_figure import Walk, plot_anytime_paths
from dnnet.reporting.budgeted_figure import plot_budgeted
from dnnet.reporting.run_caption import runs_caption
from dnnet.runs import TrainedRun, check_runs_share_data
from dnnet.runs.fresh_names import unused_name
from dnnet.utils.amounts import format_count
from dnnet.utils.provenance import provenance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run (DNNet: its path of cells; depth-only: its exits)")
    parser.add_argument("--avg-macs", type=count_argument, nargs="*", default=None,
                        help="average MAC budgets per image, e.g. 2M 3.5M (default: a sweep from the cheapest stop to the full path)")
    parser.add_argument("--budgets", type=int, default=12, help="how many budgets the default sweep takes (log-spaced)")
    parser.add_argument("--path", type=path_argument, default="auto",
                        help=f"the DNNet's walk: {PATH_SPELLING} (default auto: of the area, front and greedy paths, the one "
                             "with the best mean validation accuracy over the budgets; the baseline walks its own default)")
    parser.add_argument("--baseline", type=Path, default=None, help="a run on the same data to compare, e.g. a depth-only network")
    parser.add_argument("--serve", type=int, default=0, metavar="N",
                        help="also serve N test images one at a time through the anytime runner with each budget's greedy "
                             "thresholds, and record the MACs and time they took against the plan (default 0: plan only)")
    parser.add_argument("--serve-batch", type=int, default=0, metavar="B",
                        help="serve the same images in batches of B as well, each image leaving its batch at its own stop "
                             "(default 0: one at a time only)")
    parser.add_argument("--out", type=Path, default=None, help="folder for budgeted.json and budgeted.png (default a new folder in "
                        "the run: budgeted, then budgeted-2 ..., never over an earlier result)")
    parser.add_argument("--data-dir", default=None, help="where the runs' named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if args.budgets < 2:
        raise UserError(f"--budgets must be at least 2, got {args.budgets}")
    if args.serve < 0 or args.serve_batch < 0:
        raise UserError(f"--serve and --serve-batch must be at least 0, got {args.serve} and {args.serve_batch}")
    if args.serve_batch and not args.serve:
        raise UserError("--serve-batch serves the images --serve N chooses: give --serve too")
    runs = {"DNNet": args.run_dir} | ({"baseline": args.baseline} if args.baseline else {})
    loaded = {label: TrainedRun.open(path, args.data_dir, args.cache_dir) for label, path in runs.items()}
    check_runs_share_data({label: run.record.data for label, run in loaded.items()})  # before any data is read
    data = loaded["DNNet"].data()
    if len(data.val) == 0:
        raise UserError("the run has no validation split to choose the thresholds on")
    configs = {label: run.record.net_config for label, run in loaded.items()}
    grids = {label: (run.grid("val"), run.optional_grid("test")) for label, run in loaded.items()}
    requests = {"DNNet": args.path, "baseline": "auto"}  # the baseline walks its own default
    candidates = {label: candidate_paths(configs[label], grids[label][0], requests[label]) for label in loaded}
    costs = {label: {name: stop_costs(configs[label], chosen.cells) for name, chosen in paths.items()}
             for label, paths in candidates.items()}
    budgets = args.avg_macs or shared_budgets(list(costs["DNNet"].values()), args.budgets)
    cheapest = min(c[0].item() for c in costs["DNNet"].values())
    too_small = [b for b in budgets if b < cheapest]
    if too_small:
        raise UserError(f"an average budget of {format_count(too_small[0])} MACs is below the cheapest stop on the path "
                        f"({format_count(cheapest)} MACs: every image reaches the first cell)")
    sweeps, predictions = {}, {}
    for label, run in loaded.items():
        predictions[label] = path_predictions(run, candidates[label], data)
        sweeps[label] = {name: budget_sweep(*predictions[label][name], costs[label][name], budgets) for name in candidates[label]}
    chosen = {label: best_candidate(label_sweeps) for label, label_sweeps in sweeps.items()}
    curves = {label: sweeps[label][name] for label, name in chosen.items()}
    if args.serve:
        for label, run in loaded.items():
            name = chosen[label]
            serve_rows(run, candidates[label][name].cells, curves[label], data.test, predictions[label][name][1],
                       costs[label][name], args)
    out = args.out or Path(args.run_dir) / unused_name(args.run_dir, "budgeted", [""])
    out.mkdir(parents=True, exist_ok=True)
    records = {label: {name: path_record(path, configs[label], *grids[label]) | sweep_means(sweeps[label][name])
                       for name, path in paths.items()} for label, paths in candidates.items()}
    result = {"runs": {k: str(v) for k, v in runs.items()},
              "paths": {label: records[label][name]["cells"] for label, name in chosen.items()},
              "path_choice": {label: {"request": request_text(requests[label]), "chosen": name,
                                      "rule": "the candidate with the best mean validation accuracy over the budgets "
                                              f"({SCORED_METHOD} thresholds)", **records[label][name]}
                              for label, name in chosen.items()},
              "path_candidates": {label: {name: {**records[label][name], "curve": sweeps[label][name]} for name in paths}
                                  for label, paths in candidates.items()},
              "stop_costs": {label: costs[label][name].tolist() for label, name in chosen.items()}, "budgets": list(budgets),
              "curves": curves, "provenance": provenance()}
    (out / "budgeted.json").write_text(json.dumps(result, indent=2) + "\n")
    figures = write_figures(loaded, runs, candidates, chosen, sweeps, grids, out)
    print_result(args, {**result, "wrote": [str(out / "budgeted.json"), *map(str, figures)]},
                 lambda: print_curves(curves, result["path_choice"], result["path_candidates"], out))
    return 0


def path_predictions(run: TrainedRun, paths: dict, data) -> dict[str, tuple[PathPredictions, PathPredictions]]:
    """Per candidate path, its (validation, test) predictions, from one pass over the cells of every candidate."""
    cells = list(dict.fromkeys(cell for path in paths.values() for cell in path.cells))
    columns = {cell: index for index, cell in enumerate(cells)}
    logits = {split: path_logits(run.model, run.normalize(getattr(data, split).images), cells) for split in ("val", "test")}
    return {name: tuple(PathPredictions.from_logits(logits[split][:, [columns[c] for c in path.cells]], getattr(data, split).labels)
                        for split in ("val", "test")) for name, path in paths.items()}


def sweep_means(rows: list[dict]) -> dict[str, float]:
    return {"budgeted_mean_val_accuracy": mean_accuracy(rows, "val"), "budgeted_mean_test_accuracy": mean_accuracy(rows, "test")}


def request_text(request) -> str:
    return request if isinstance(request, str) else ",".join(cell_name(*c) for c in request)


def write_figures(loaded, runs, candidates, chosen, sweeps, grids, out: Path) -> list[Path]:
    """budgeted.png (each network's chosen path, and the DNNet's greedy path when it was a candidate not chosen) and
    anytime_path.png (the same paths walked whole: the accuracy of the latest cell against the MACs spent)."""
    preset = {label: run.record.train_config.preset for label, run in loaded.items()}
    series = {f"{label}: {preset[label]}, {chosen[label]} path": sweeps[label][chosen[label]] for label in loaded}
    if "greedy" in candidates["DNNet"] and chosen["DNNet"] != "greedy":
        series[f"DNNet: {preset['DNNet']}, greedy path"] = sweeps["DNNet"]["greedy"]
    caption = runs_caption(runs)
    plot_budgeted(series, out / "budgeted.png", f"budgeted batch classification, test split\n{caption}".strip())
    val, test = grids["DNNet"]
    shown = test if test is not None else val
    config = loaded["DNNet"].record.net_config
    walks = [Walk(f"DNNet, {name} path", config, path.cells, shown) for name, path in candidates["DNNet"].items()
             if name in (chosen["DNNet"], "greedy")]
    if "baseline" in loaded:
        base_val, base_test = grids["baseline"]
        walks.append(Walk(f"baseline: {preset['baseline']}", loaded["baseline"].record.net_config,
                          candidates["baseline"][chosen["baseline"]].cells, base_test if base_test is not None else base_val,
                          on_heatmap=False))
    axis = candidates["DNNet"][chosen["DNNet"]].axis
    split = "test" if test is not None else "validation"
    plot_anytime_paths(walks, val, axis, out / "anytime_path.png",
                       f"{preset['DNNet']}: walks through the grid, {split} accuracy (paths chosen on validation)\n{caption}".strip())
    return [out / "budgeted.png", out / "anytime_path.png"]


def serve_rows(run: TrainedRun, path, rows: list[dict], test_split, test: PathPredictions, costs: torch.Tensor, args) -> None:
    """Adds to each greedy row what serving `args.serve` test images with its thresholds took: one at a time, and in
    batches of `args.serve_batch` if given."""
    chosen = request_images(min(args.serve, len(test_split)), len(test_split), 0)  # test sets may be sorted by class
    images, labels = run.normalize(test_split.images[chosen]), test_split.labels[chosen]
    runner = AnytimeRunner(run.model, path, compute_ahead="none")  # the plan pays each step's own MACs: nothing ahead
    with torch_threads(args.threads):  # the timed part, on --threads threads
        for row in rows:
            if row["method"] == "greedy":
                thresholds = torch.tensor(row["thresholds"], dtype=torch.float64)  # as planned, not rounded to float32
                served = serve_budgeted(runner, images, labels, thresholds, costs, test.confidence[chosen])
                row["served_batch_1"] = {"images": len(chosen), "threads": args.threads, **dataclasses.asdict(served)}
                if args.serve_batch:
                    batches = serve_budgeted_batches(runner, images, labels, thresholds, costs, test.confidence[chosen],
                                                     args.serve_batch)
                    row["served_batches"] = {"images": len(chosen), "threads": args.threads, **dataclasses.asdict(batches)}


def print_curves(curves: dict[str, list[dict]], choices: dict[str, dict], candidates: dict[str, dict], out: Path) -> None:
    for label, rows in curves.items():
        scores = ", ".join(f"{name} {100 * record['budgeted_mean_val_accuracy']:.2f}%" for name, record in candidates[label].items())
        print(f"{label}: {describe_path(choices[label])}; mean validation accuracy over the budgets: {scores}")
        for row in rows:
            if row["method"] == "greedy":
                print(f"{label}: average budget {format_count(row['budget_macs'])} MACs -> test accuracy "
                      f"{100 * row['test_accuracy']:.2f}% at {format_count(row['test_mean_macs'])} MACs on average"
                      + overspent_text(row)
                      + served_text(row.get("served_batch_1"), "one by one", "mean_ms")
                      + served_text(row.get("served_batches"), "in batches", "ms_per_image"))
    print(f"wrote {out}/budgeted.json, budgeted.png and anytime_path.png")


# the test split may spend more than the thresholds planned on validation; say so past this share of the budget
OVERSPENT_SHARE = 1.05


def overspent_text(row: dict) -> str:
    share = row["test_mean_macs"] / row["budget_macs"]
    return (f" ({share:.2f}x the budget: the test images were less confident than the validation images the thresholds "
            "were chosen on)") if share > OVERSPENT_SHARE else ""


def served_text(served: dict | None, how: str, time_key: str) -> str:
    if served is None:
        return ""
    return (f"; served {how}: {format_count(served['mean_macs'])} MACs (planned {format_count(served['planned_mean_macs'])}), "
            f"{served[time_key]:.3f} ms per image")
