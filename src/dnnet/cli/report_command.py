"""`dnnet report`: report.html with the figures of a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.cli.argument_types import macs_budget_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.reporting.experiments_report import is_experiment_root, write_experiments_report
from dnnet.reporting.run_report import write_report
from dnnet.runs import TrainedRun
from dnnet.utils.amounts import EXAMPLE_BUDGET


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a run directory, or the --out of `dnnet experiment`")
    parser.add_argument("--macs", type=macs_budget_argument, default=EXAMPLE_BUDGET,
                        help="example MAC budget, e.g. 2M, or a share of the full network's (default 25%%)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if is_experiment_root(args.run_dir):
        path = write_experiments_report(args.run_dir)
    else:
        with TrainedRun.open(args.run_dir).writing():  # RUN/report.html: not while the run trains
            path = write_report(args.run_dir, args.macs)
    print_result(args, {"wrote": str(path)}, lambda: print(f"wrote {path}"))
    return 0
