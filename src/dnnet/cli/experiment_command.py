"""`dnnet experiment`: the paper's experiments and baselines under a protocol, cached and resumable."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dnnet.cli.argument_types import DeprecatedAlias, seed_argument
from dnnet.cli.json_output import add_json_flag, print_result, say
from dnnet.data.dispatch import fetch_named
from dnnet.errors import Interrupted
from dnnet.experiments import EXPERIMENTS, PROTOCOLS, RunStore, get_protocol, run_experiment
from dnnet.experiments.parallel_runs import train_in_parallel
from dnnet.experiments.suite import record_suite_time, runs_needed
from dnnet.reporting.experiments_report import write_experiments_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=[*EXPERIMENTS, "all"], help="the paper's figure to reproduce, or all of them")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="cpu",
                        help="cpu: ResNet-20 family, 7 epochs, under 90 minutes on 2 cores; paper: the paper's networks, 160 epochs, GPU")
    parser.add_argument("--out", type=Path, default=None, help="experiment root (default runs/experiments/PROTOCOL)")
    parser.add_argument("--data", default=None, help="override the protocol's data (named set or path)")
    parser.add_argument("--data-dir", default=None, help="where named data sets live (default ./data)")
    parser.add_argument("--download", action="store_true", help="fetch a named data set that is not in --data-dir")
    parser.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs (e.g. 1 for a smoke test)")
    parser.add_argument("--seed", "--seeds", dest="seed", type=seed_argument, nargs="+", default=None, action=DeprecatedAlias,
                        deprecated="--seeds", help="override the protocol's seeds, e.g. --seed 0 1 (--seeds is the old name)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="train this many runs at a time, each in its own process (on a GPU: small networks leave it idle)")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress of the training runs")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    protocol = get_protocol(args.protocol).with_overrides(
        data=args.data, data_dir=args.data_dir, epochs=args.epochs, seeds=tuple(args.seed) if args.seed else None)
    if args.download:
        fetch_named(protocol.data, protocol.data_dir)
    root = args.out or Path("runs/experiments") / protocol.name
    store = RunStore(root, protocol, show_progress=not args.quiet, cache_dir=args.cache_dir, device=args.device)
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    started = time.perf_counter()
    if args.jobs > 1:
        train_in_parallel(root, protocol, [run for name in names for run in runs_needed(name, protocol)], args.jobs,
                          args.cache_dir, args.device, args.threads)
    written: dict[str, list[str]] = {}
    for name in names:
        try:
            summary = run_experiment(name, store)
        except Interrupted as stop:
            raise Interrupted(f"{stop.args[0].split(';')[0]}; the same `dnnet experiment` command continues where it stopped") from None
        say(args, f"{name}: wrote {root}/experiments/{name}.json, .csv and .png ({summary['wall_seconds_this_call']:.0f} s)")
        written[name] = [str(root / "experiments" / f"{name}.{suffix}") for suffix in ("json", "csv", "png")]
    if args.name == "all":
        record_suite_time(store, names, time.perf_counter() - started)
    report = write_experiments_report(root)
    print_result(args, {"root": str(root), "protocol": protocol.name, "wrote": written, "report": str(report)},
                 lambda: print(f"report: {report}"))
    return 0
