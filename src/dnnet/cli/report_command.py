"""`dnnet report`: report.html with the figures of a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.errors import UserError
from dnnet.reporting.experiments_report import is_experiment_root, write_experiments_report
from dnnet.reporting.run_report import write_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a run directory, or the --out of `dnnet experiment`")
    parser.add_argument("--macs-fraction", type=float, default=0.25,
                        help="example budget as a fraction of the full network's MACs (default 0.25)")


def run(args: argparse.Namespace) -> int:
    if not 0 < args.macs_fraction <= 1:
        raise UserError(f"--macs-fraction must be in (0, 1], got {args.macs_fraction}")
    if is_experiment_root(args.run_dir):
        path = write_experiments_report(args.run_dir)
    else:
        path = write_report(args.run_dir, args.macs_fraction)
    print(f"wrote {path}")
    return 0
