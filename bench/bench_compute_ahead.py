"""Computing ahead: a walk's time against the folded slice of its last cell, for each schedule of the anytime runner
(`AnytimeRunner(..., compute_ahead=)`), and when each answer arrives.

    python bench/bench_compute_ahead.py --dnnet-run runs/cpu_e30/dnnet_e30_s0 --out docs/benchmarks_compute_ahead.json

The trained network walks its default path (chosen on its validation grid), the paper's ResNet-32 with 22 groups
(random weights: time does not depend on them) three shapes of path. Batch 1 and 32, 1 thread, cold: medians of
interleaved single calls of every variant in turn. The answer times are medians over walks of the time from the
start of a walk to each step's logits; the figure draws the trained network's test accuracy against them, and their
mean accuracy at a deadline drawn uniformly from [0, T] (T: the slowest walk's end, and T/2, T/4) sums them up. For the
trained network each schedule also walks with each of the runner's two kernels at batch 1 to 32 (where to switch).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from bench_anytime import path_shapes
from bench_core import interleaved_medians
from matplotlib.figure import Figure

from dnnet import create_model
from dnnet.anytime import COMPUTE_AHEAD, AnytimeRunner, default_path
from dnnet.config import cell_name
from dnnet.evaluation import read_accuracy_grid
from dnnet.runs import TrainedRun
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.utils.provenance import provenance


def walk_times(model, path, batch: int, repeats: int) -> dict:
    """Each schedule's walk, in ms and over the folded slice of the path's last cell."""
    x = torch.randn(batch, 3, model.config.image_size, model.config.image_size)
    deployed = fold_batchnorm(slice_subnet(model, *path[-1])).eval()
    runners = {ahead: AnytimeRunner(model, path, compute_ahead=ahead) for ahead in COMPUTE_AHEAD}
    variants = {f"walk_{ahead}": (lambda runner=runner: list(runner.steps(x))) for ahead, runner in runners.items()}
    with torch.no_grad():
        ms = interleaved_medians({**variants, "folded_slice": lambda: deployed(x)}, repeats, warmup=2, device=torch.device("cpu"))
    return {"batch": batch, "ms": {name: round(1e3 * seconds, 3) for name, seconds in ms.items()},
            "over_folded_slice": {ahead: round(ms[f"walk_{ahead}"] / ms["folded_slice"], 3) for ahead in COMPUTE_AHEAD}}


def kernel_sweep(model, path, batches: list[int], repeats: int) -> list[dict]:
    """Per schedule and batch size, the walk with products over unfolded inputs against the library's convolutions."""
    return [_kernel_times(model, path, ahead, batch, repeats) for ahead in COMPUTE_AHEAD for batch in batches]


def _kernel_times(model, path, ahead: str, batch: int, repeats: int) -> dict:
    x = torch.randn(batch, 3, model.config.image_size, model.config.image_size)
    unfolded = AnytimeRunner(model, path, unfold_max_batch=batch, compute_ahead=ahead)
    convolution = AnytimeRunner(model, path, unfold_max_batch=0, compute_ahead=ahead)
    with torch.no_grad():
        ms = interleaved_medians({"unfolded": lambda: list(unfolded.steps(x)), "convolution": lambda: list(convolution.steps(x))},
                                 repeats, warmup=2, device=torch.device("cpu"))
    return {"compute_ahead": ahead, "batch": batch, **{f"ms_{name}": round(1e3 * t, 3) for name, t in ms.items()},
            "unfolded_over_convolution": round(ms["unfolded"] / ms["convolution"], 3)}


def answer_times(model, path, batch: int, repeats: int) -> dict[str, list[float]]:
    """Per schedule, the median time (ms) from the start of a walk to each step's answer; schedules interleaved."""
    x = torch.randn(batch, 3, model.config.image_size, model.config.image_size)
    runners = {ahead: AnytimeRunner(model, path, compute_ahead=ahead) for ahead in COMPUTE_AHEAD}
    samples: dict[str, list[list[float]]] = {ahead: [] for ahead in COMPUTE_AHEAD}
    for round_index in range(repeats + 2):
        for ahead, runner in runners.items():
            started, marks = time.perf_counter(), []
            for _ in runner.steps(x):
                marks.append(1e3 * (time.perf_counter() - started))
            if round_index >= 2:  # the first two build the buffers and warm the cache
                samples[ahead].append(marks)
    return {ahead: [round(statistics.median(column), 3) for column in zip(*rows)] for ahead, rows in samples.items()}


def mean_accuracy_until(answer_ms: list[float], accuracy: list[float], horizon: float) -> float:
    """The accuracy of the latest answer at a deadline drawn uniformly from [0, horizon] ms, averaged (0 before the
    first answer): one number for how soon a walk gives how good an answer."""
    ends = answer_ms[1:] + [horizon]
    area = sum(max(0.0, min(end, horizon) - start) * acc for start, end, acc in zip(answer_ms, ends, accuracy))
    return round(area / horizon, 2)


def deadline_quality(trained: dict) -> dict:
    """Per batch and schedule, `mean_accuracy_until` the slowest walk's end T, T/2 and T/4."""
    quality = {}
    for batch, times in trained["answer_ms"].items():
        slowest = max(ms[-1] for ms in times.values())
        quality[batch] = {f"T/{part}": {ahead: mean_accuracy_until(ms, trained["test_accuracy"], slowest / part)
                                        for ahead, ms in times.items()} for part in (1, 2, 4)}
        quality[batch]["T_ms"] = slowest
    return quality


def plot(curves: dict, path: Path, caption: str) -> None:
    """Test accuracy of the latest answer against time, one panel per batch size, one line per schedule."""
    fig = Figure(figsize=(11, 4.4))
    for ax, (batch, times) in zip(fig.subplots(1, len(curves["answer_ms"])), curves["answer_ms"].items()):
        for ahead, ms in times.items():
            ax.step(ms, curves["test_accuracy"], where="post", marker=".", label=f"compute ahead: {ahead}")
        ax.set_xlabel(f"time since the start of the walk (ms, batch {batch}, 1 thread)")
        ax.set_ylabel("test accuracy of the latest answer (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Anytime walk of the default path: answers against time, by schedule\n{caption}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dnnet-run", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_compute_ahead.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    run = TrainedRun.open(args.dnnet_run)
    model, train_config = run.model, run.record.train_config
    path = default_path(model.config, read_accuracy_grid(args.dnnet_run, "val"))
    test = read_accuracy_grid(args.dnnet_run, "test")
    trained = {"run": str(args.dnnet_run), "preset": train_config.preset, "epochs": train_config.optimiser.epochs,
               "path": [cell_name(*cell) for cell in path],
               "test_accuracy": [round(100 * test[d - 1, w - 1].item(), 2) for d, w in path],
               "walks": [walk_times(model, path, batch, args.repeats) for batch in args.batches],
               "answer_ms": {batch: answer_times(model, path, batch, args.repeats) for batch in args.batches},
               "kernels": kernel_sweep(model, path, [1, 2, 4, 8, 16, 32], max(5, args.repeats // 2))}
    trained["mean_accuracy_at_a_uniform_deadline"] = deadline_quality(trained)
    paper = create_model("dnnet_resnet32_g22").eval()
    shapes = {shape: [walk_times(paper, shape_path, batch, max(5, args.repeats // 3)) for batch in args.batches]
              for shape, shape_path in path_shapes(16, 22).items()}
    record = {"benchmark": "compute ahead", "threads": 1, "repeats": args.repeats, "trained": trained,
              "dnnet_resnet32_g22": shapes, "provenance": provenance()}  # before any output file changes the checkout
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    plot(trained, args.out.with_suffix(".png"), f"{args.dnnet_run.name} ({trained['preset']}, {trained['epochs']} epochs)")
    for batch_walk in trained["walks"]:
        print(f"trained, batch {batch_walk['batch']}: walk / folded slice {batch_walk['over_folded_slice']}")
    for batch, quality in trained["mean_accuracy_at_a_uniform_deadline"].items():
        print(f"trained, batch {batch}: mean accuracy at a deadline uniform in [0, T], T = {quality['T_ms']} ms: {quality}")
    for row in trained["kernels"]:
        print(f"trained, {row['compute_ahead']}, batch {row['batch']}: unfolded / convolution {row['unfolded_over_convolution']}")
    for shape, walks in shapes.items():
        for batch_walk in walks:
            print(f"dnnet_resnet32_g22 {shape}, batch {batch_walk['batch']}: walk / folded slice {batch_walk['over_folded_slice']}")


if __name__ == "__main__":
    main()
