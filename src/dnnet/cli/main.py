"""The `dnnet` command: one subcommand per file in this folder."""

from __future__ import annotations

import argparse
import sys

from dnnet.cli import (
    anytime_command,
    demo_command,
    eval_command,
    experiment_command,
    export_command,
    latency_command,
    profile_command,
    report_command,
    select_command,
    simulate_command,
    train_command,
)
from dnnet.train import Interrupted, NonFiniteLoss


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnnet", description="Doubly nested networks: train, slice, profile.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    demo_command.add_parser(subparsers)
    train_command.add_parser(subparsers)
    eval_command.add_parser(subparsers)
    profile_command.add_parser(subparsers)
    report_command.add_parser(subparsers)
    select_command.add_parser(subparsers)
    latency_command.add_parser(subparsers)
    export_command.add_parser(subparsers)
    experiment_command.add_parser(subparsers)
    simulate_command.add_parser(subparsers)
    anytime_command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except Interrupted as stop:  # Ctrl-C: the run saved where it was
        print(f"dnnet {args.command}: interrupted: {stop}", file=sys.stderr)
        return 130
    except NonFiniteLoss as error:
        print(f"dnnet {args.command}: error: {error}", file=sys.stderr)
        return 3
    except (ValueError, FileNotFoundError) as error:  # user errors: one line, no traceback
        print(f"dnnet {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
