"""Anytime inference: walking a path of cells incrementally vs running the full network once, vs
recomputing every step from scratch (MACs and time), and accuracy reached against time spent.

    python bench/bench_anytime.py --dnnet-run runs/experiments/cpu/runs/dnnet_s0 \
        --anytime-run runs/experiments/cpu/runs/anytime_s0 --out docs/benchmarks_anytime.json

Times are medians of interleaved repetitions at batch 1 with 1 thread (a device serving one request):
"cold", one call of each variant in turn (each evicts the others' buffers from the cache), and
"warm", ten calls of a variant in a row (a server answering a stream of requests).
The paper's network (random weights: time and MACs do not depend on them) walks three shapes of
path from 1x1 to 16x22: widen first, deepen first, and a staircase that alternates; the trained
ResNet-20 walks its default path, chosen from its validation grid. Without `--dnnet-run` and
`--anytime-run` only the paper network's part runs (no trained run needed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from bench_core import interleaved_medians
from matplotlib.figure import Figure

from dnnet import create_model
from dnnet.anytime import UNFOLD_MAX_BATCH, AnytimeRunner, default_path, path_cost
from dnnet.config import cell_name
from dnnet.evaluation import read_accuracy_grid
from dnnet.reporting.run_caption import runs_caption
from dnnet.runs import TrainedRun
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.utils.provenance import provenance


def path_shapes(depths: int, widths: int) -> dict[str, list[tuple[int, int]]]:
    widen_first = [(1, w) for w in range(1, widths + 1)] + [(d, widths) for d in range(2, depths + 1)]
    deepen_first = [(d, 1) for d in range(1, depths + 1)] + [(depths, w) for w in range(2, widths + 1)]
    staircase, (d, w) = [(1, 1)], (1, 1)
    while (d, w) != (depths, widths):  # one step wider, one deeper, in proportion to the grid's sides
        d, w = (d, w + 1) if (w / widths <= d / depths and w < widths) or d == depths else (d + 1, w)
        staircase.append((d, w))
    return {"widen first": widen_first, "deepen first": deepen_first, "staircase": staircase}


def walk_vs_once(model, path, repeats: int) -> dict:
    x = torch.randn(1, 3, 32, 32)
    runner, one_step = AnytimeRunner(model, path), AnytimeRunner(model, path[-1:])
    depth, width = path[-1]
    deployed = fold_batchnorm(slice_subnet(model, depth, width))
    variants = {"walk": lambda: list(runner.steps(x)), "once": lambda: model(x, depth, width),
                "once_deployed": lambda: deployed(x), "one_step": lambda: list(one_step.steps(x))}
    with torch.no_grad():
        times = interleaved_medians({**variants, "from_scratch": lambda: [model(x, d, w) for d, w in path]},
                                    repeats, warmup=2, device=torch.device("cpu"))
        # a server answering a stream of requests: each variant called 10 times in a row, its buffers and weights in cache
        calls = 10
        warm = interleaved_medians({name: (lambda fn=fn: [fn() for _ in range(calls)]) for name, fn in variants.items()},
                                   repeats, warmup=1, device=torch.device("cpu"))
    warm = {name: seconds / calls for name, seconds in warm.items()}
    cost = path_cost(model.config, path)
    return {"path_length": len(path), "path": [cell_name(d, w) for d, w in path], "compute_ahead": runner.compute_ahead,
            "warm": {**{f"ms_{name}": round(1e3 * seconds, 3) for name, seconds in warm.items()},
                     **{f"time_ratio_walk_over_{name}": round(warm["walk"] / warm[name], 3)
                        for name in ["once", "once_deployed", "one_step"]}},
            "macs_walk": cost.incremental_macs, "macs_once": cost.final_cell_macs, "macs_from_scratch": cost.from_scratch_macs,
            "macs_ratio_walk_over_once": round(cost.incremental_macs / cost.final_cell_macs, 4),
            "macs_ratio_from_scratch_over_once": round(cost.from_scratch_macs / cost.final_cell_macs, 3),
            "ms_walk": round(1e3 * times["walk"], 3), "ms_once": round(1e3 * times["once"], 3),
            "ms_from_scratch": round(1e3 * times["from_scratch"], 3), "ms_once_deployed": round(1e3 * times["once_deployed"], 3),
            "ms_one_step": round(1e3 * times["one_step"], 3),
            "time_ratio_walk_over_once_deployed": round(times["walk"] / times["once_deployed"], 3),
            "time_ratio_walk_over_one_step": round(times["walk"] / times["one_step"], 3),
            "time_ratio_walk_over_once": round(times["walk"] / times["once"], 3),
            "time_ratio_from_scratch_over_once": round(times["from_scratch"] / times["once"], 3)}


def batch_sweep(model, path, batches: list[int], repeats: int) -> list[dict]:
    """The walk at several batch sizes, with each of the runner's two kernels, against running the last cell once."""
    depth, width = path[-1]
    deployed = fold_batchnorm(slice_subnet(model, depth, width))
    return [_batch_times(model, deployed, path, batch, repeats) for batch in batches]


def _batch_times(model, deployed, path, batch: int, repeats: int) -> dict:
    x = torch.randn(batch, 3, 32, 32)
    unfolded, convolution = AnytimeRunner(model, path, unfold_max_batch=batch), AnytimeRunner(model, path, unfold_max_batch=0)
    with torch.no_grad():
        times = interleaved_medians({"walk_unfolded": lambda: list(unfolded.steps(x)),
                                     "walk_convolution": lambda: list(convolution.steps(x)),
                                     "once": lambda: model(x, *path[-1]), "once_deployed": lambda: deployed(x)},
                                    repeats, warmup=2, device=torch.device("cpu"))
    return {"batch": batch, **{f"ms_{name}": round(1e3 * t, 3) for name, t in times.items()},
            "unfolded_over_convolution": round(times["walk_unfolded"] / times["walk_convolution"], 3),
            "default_kernel": "unfolded" if batch <= UNFOLD_MAX_BATCH["all"] else "convolution"}


def step_times(model, path, repeats: int) -> list[float]:
    """Median time (ms) from the start to each step of the walk, batch 1."""
    x = torch.randn(1, 3, 32, 32)
    runner = AnytimeRunner(model, path)
    samples = []
    for _ in range(repeats + 2):
        started, marks = time.perf_counter(), []
        for _cell in runner.steps(x):
            marks.append(1e3 * (time.perf_counter() - started))
        samples.append(marks)
    return [round(statistics.median(column), 4) for column in zip(*samples[2:])]


def accuracy_vs_time(run_dir: Path, repeats: int) -> dict:
    run = TrainedRun.open(run_dir)
    model = run.model
    val, test = read_accuracy_grid(run_dir, "val"), read_accuracy_grid(run_dir, "test")
    path = default_path(model.config, val)
    return {"run": str(run_dir), "preset": run.record.train_config.preset, "path": [cell_name(d, w) for d, w in path],
            "ms": step_times(model, path, repeats), "test_accuracy": [round(test[d - 1, w - 1].item(), 4) for d, w in path],
            "walk": walk_vs_once(model, path, repeats), "batches": batch_sweep(model, path, [1, 2, 4, 8, 16, 32], max(5, repeats // 3))}


def plot(curves: dict, path: Path, caption: str) -> None:
    """Accuracy of the latest answer against time; `caption`: what the runs were trained on."""
    fig = Figure(figsize=(7.5, 4.7))
    ax = fig.subplots()
    for label, curve in curves.items():
        ax.step(curve["ms"], [100 * a for a in curve["test_accuracy"]], where="post", marker=".", label=label)
    ax.set_xlabel("time since the request (ms, batch 1, 1 thread)")
    ax.set_ylabel("test accuracy of the latest answer (%)")
    ax.set_title(f"Anytime inference: accuracy reached against time spent\n{caption}".strip(), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dnnet-run", type=Path, default=None)
    parser.add_argument("--anytime-run", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_anytime.json"))
    parser.add_argument("--redraw", metavar="CAPTION", default=None,
                        help="only redraw the figure from --out's file, captioned with what its runs were trained on")
    args = parser.parse_args()
    if args.redraw is not None:
        results = json.loads(args.out.read_text())["results"]
        curves = {f"{label} ({Path(results[label]['run']).name})": results[label] for label in ("DNNet", "depth-only")
                  if label in results}
        plot(curves, args.out.with_suffix(".png"), args.redraw)
        return
    torch.set_num_threads(1)
    torch.manual_seed(0)
    paper = create_model("dnnet_resnet32_g22").eval()
    results = {f"dnnet_resnet32_g22, {shape}": walk_vs_once(paper, path, args.repeats)
               for shape, path in path_shapes(16, 22).items()}
    curves, trained = {}, {}
    for label, run in [("DNNet", args.dnnet_run), ("depth-only", args.anytime_run)]:
        if run is not None:
            results[label] = curves[f"{label} ({run.name})"] = accuracy_vs_time(run, args.repeats)
            trained[label] = run
    record = {"benchmark": "anytime", "threads": 1, "batch": 1, "repeats": args.repeats, "results": results,
              "provenance": provenance()}  # before any output file changes the checkout
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    if curves:
        plot(curves, args.out.with_suffix(".png"), f"trained on {runs_caption(trained)}" if runs_caption(trained) else "")
    for name, result in results.items():
        walk = result.get("walk", result)
        print(f"{name}: {walk['path_length']} steps; MACs walk/once {walk['macs_ratio_walk_over_once']}, time walk/once "
              f"{walk['time_ratio_walk_over_once']}, walk/folded slice {walk['time_ratio_walk_over_once_deployed']}, "
              f"walk/one step {walk['time_ratio_walk_over_one_step']}, from scratch/once {walk['time_ratio_from_scratch_over_once']}; "
              f"warm: walk/once {walk['warm']['time_ratio_walk_over_once']}, walk/folded slice "
              f"{walk['warm']['time_ratio_walk_over_once_deployed']}, walk/one step {walk['warm']['time_ratio_walk_over_one_step']}")
        for row in result.get("batches", []):
            print(f"  batch {row['batch']}: walk unfolded {row['ms_walk_unfolded']} ms, convolution {row['ms_walk_convolution']} ms, "
                  f"once {row['ms_once']} ms, folded slice {row['ms_once_deployed']} ms")


if __name__ == "__main__":
    main()
