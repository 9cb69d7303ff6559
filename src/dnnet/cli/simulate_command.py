"""`dnnet simulate`: replay a trace of changing budgets; DNNet against a depth-only network on the same requests."""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from pathlib import Path

import torch

from dnnet.cli.argument_types import seed_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.deploy.example_traces import EXAMPLE_TRACES, trace_path
from dnnet.deploy.request_images import request_images
from dnnet.deploy.simulate import read_trace, serve, summarize
from dnnet.evaluation import per_image_correct
from dnnet.reporting.run_caption import runs_caption
from dnnet.reporting.simulation_figure import plot_simulation
from dnnet.runs import TrainedRun, check_runs_share_data
from dnnet.runs.fresh_names import unused_name
from dnnet.selection import offered_cells
from dnnet.utils.provenance import provenance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the DNNet run")
    parser.add_argument("--trace", type=trace_path, required=True,
                        help="CSV: time_s, macs, memory_bytes (or macs_fraction, memory_fraction of the full DNNet's), or the "
                             f"name of a trace shipped with dnnet: {', '.join(EXAMPLE_TRACES)}")
    parser.add_argument("--baseline", type=Path, default=None, help="a depth-only anytime run on the same data to compare")
    parser.add_argument("--seed", type=seed_argument, default=0, help="the order in which requests take the test images")
    parser.add_argument("--out", type=Path, default=None, help="folder for TRACE.json and TRACE.png (default RUN/simulate, with "
                        "TRACE-2.json ... beside an earlier result, never over it)")
    parser.add_argument("--data-dir", default=None, help="where the runs' named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    runs = {"DNNet": args.run_dir} | ({"depth-only": args.baseline} if args.baseline else {})
    loaded = {label: TrainedRun.open(path, args.data_dir, args.cache_dir) for label, path in runs.items()}
    with loaded["DNNet"].writing() if args.out is None else nullcontext():  # RUN/simulate: not while the run trains
        return simulate_runs(args, runs, loaded)


def simulate_runs(args: argparse.Namespace, runs: dict[str, Path], loaded: dict[str, TrainedRun]) -> int:
    """Serves the trace with every run and writes the comparison into RUN/simulate."""
    check_runs_share_data({label: run.record.data for label, run in loaded.items()})  # the very same images
    data = loaded["DNNet"].data()
    dnnet_grid = offered_cells(loaded["DNNet"].record.net_config)
    requests = read_trace(args.trace, dnnet_grid[-1])
    images = request_images(len(requests), len(data.test), args.seed)  # the same images for every network
    served_by, summary = {}, {}
    for label, run in loaded.items():
        grid, correct = _cells_and_correct(run, data.test)
        served_by[label] = serve(requests, grid, run.grid("val"), correct, images)
        summary[label] = summarize(requests, served_by[label])
    out = args.out or Path(args.run_dir) / "simulate"
    out.mkdir(parents=True, exist_ok=True)
    stem = args.trace.stem if args.out else unused_name(out, args.trace.stem, [".json", ".png"])
    record = {"trace": str(args.trace), "runs": {k: str(v) for k, v in runs.items()}, "image_seed": args.seed, "summary": summary,
              "chosen": {label: [None if s.cell is None else cell_name(s.cell.depth, s.cell.width) for s in served]
                         for label, served in served_by.items()},
              "provenance": provenance()}
    (out / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    plot_simulation(requests, served_by, out / f"{stem}.png", f"trace {stem}: {len(requests)} requests\n{runs_caption(runs)}".strip())

    def for_people() -> None:
        for label, numbers in summary.items():
            print(f"{label}: accuracy delivered {100 * numbers['accuracy_delivered']:.2f}% over {numbers['requests']} requests "
                  f"({numbers['answered']} answered); share of the MAC budget used {_percent(numbers['macs_share_used'])}, "
                  f"of the memory budget {_percent(numbers['memory_share_used'])}")
        print(f"wrote {out / stem}.json and .png")
    print_result(args, {**record, "wrote": [str(out / f"{stem}.json"), str(out / f"{stem}.png")]}, for_people)
    return 0


def _cells_and_correct(run: TrainedRun, test) -> tuple[list, torch.Tensor]:
    """The cells a network offers and (images, depths, widths) correctness; a depth-only network: full width only."""
    model, config, stats = run.model, run.model.config, run.record.data.stats
    if config.causal:
        return offered_cells(config), per_image_correct(model, test, *stats)
    full_width = per_image_correct(model, test, *stats, width=config.groups)
    correct = torch.zeros(len(test), config.num_exits, config.groups, dtype=torch.bool)
    correct[:, :, -1] = full_width[:, :, 0]
    return offered_cells(config), correct


def _percent(value: float | None) -> str:
    return "n/a (nothing answered)" if value is None else f"{100 * value:.1f}%"
