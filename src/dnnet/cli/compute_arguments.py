"""`--device` and `--threads`: the same two flags, with the same meaning, on every command that runs a network."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from dnnet.errors import UserError

# commands that train or evaluate, on a GPU when asked for or when there is one
ANY_DEVICE = {"demo", "train", "eval", "experiment"}
# commands that time, export or serve on this machine's CPU (what they measure or write is the CPU's)
CPU_ONLY = {"latency", "anytime", "budgeted", "simulate", "export", "bundle"}
# commands whose numbers are times: one thread unless asked, so that two runs of them can be compared
TIMING = {"latency", "anytime", "budgeted"}


def add_compute_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Adds `--device` and `--threads` to `command`'s parser if it runs a network."""
    if command not in ANY_DEVICE | CPU_ONLY:
        return
    group = parser.add_argument_group("where it runs")
    if command in CPU_ONLY:
        group.add_argument("--device", default="cpu", help="cpu: this command measures or exports on the CPU (default cpu)")
    else:
        group.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    if command in TIMING:
        group.add_argument("--threads", type=int, default=1,
                           help="torch threads of what is timed (default 1: fixed, so that two measurements compare)")
    else:
        group.add_argument("--threads", type=int, default=None,
                           help="torch threads on the CPU (default: torch's, usually one per core)")


def check_threads(threads: int) -> int:
    """`--threads` of every command: 1 to this machine's cores (more oversubscribes the cores; a huge number made the
    thread pool crash the process)."""
    cores = os.cpu_count() or 1
    if not 1 <= threads <= cores:
        raise UserError(f"--threads must be between 1 and this machine's {cores} cores, got {threads}")
    return threads


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """`threads` torch threads inside, the previous number after (a command may be called from Python, as the tests do)."""
    import torch  # only for a command that runs a network: `dnnet --help` stays quick

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def compute_settings(args: argparse.Namespace) -> Iterator[None]:
    """Checks `--device` and `--threads` before anything is read, and runs the command with `--threads` torch threads.
    A timing command applies them to what it times only (its preparation keeps torch's threads)."""
    if args.command in CPU_ONLY and args.device != "cpu":
        raise UserError(f"dnnet {args.command} runs on the CPU (what it measures or writes is the CPU's); "
                        f"--device {args.device} is not supported here")
    threads = getattr(args, "threads", None)
    if threads is not None:
        check_threads(threads)
    if threads is None or args.command in TIMING:
        yield
        return
    with torch_threads(threads):
        yield
