"""Training an experiment's runs several at a time, each in its own process.

The networks are small: one run leaves most of a GPU idle, so a few processes side by side finish a
protocol sooner. On a 2-core CPU one process at a time is as fast (the default, `jobs=1`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import torch

from dnnet.errors import UserError
from dnnet.experiments.protocols import Protocol
from dnnet.experiments.run_store import RunStore


def train_in_parallel(root: Path, protocol: Protocol, names: list[str], jobs: int, cache_dir: Path | None = None,
                      device: str | None = None, threads: int | None = None) -> None:
    """Trains (or resumes) the unfinished runs among `names`, `jobs` processes at a time, each on `device` with
    `threads` torch threads (default: the cores shared among the processes).

    Each process writes its output to root/runs/NAME.log; a failed run raises here after the others end.
    """
    if jobs < 1:
        raise UserError(f"jobs must be at least 1, got {jobs}")
    store = RunStore(root, protocol, show_progress=False, cache_dir=cache_dir, device=device)
    pending = list(dict.fromkeys(name for name in names if not store.is_finished(name)))
    if not pending:
        return
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)  # the processes share the cores, not oversubscribe them
    context = multiprocessing.get_context("spawn")  # no CUDA state copied from the parent
    failures = []
    with ProcessPoolExecutor(min(jobs, len(pending)), mp_context=context) as pool:
        futures = {pool.submit(_train_one, root, protocol, name, cache_dir, device, threads): name for name in pending}
        print(f"training {len(pending)} runs, {min(jobs, len(pending))} at a time: {', '.join(pending)}", flush=True)
        for future in as_completed(futures):
            name = futures[future]
            try:
                print(f"  {name} done in {future.result():.0f} s", flush=True)
            except Exception as error:  # noqa: BLE001 - reported together once every run has ended
                failures.append((name, error))
    if failures:
        lines = [f"{name}: {error if isinstance(error, UserError) else repr(error)} "
                 f"(log: {store.run_dir(name).parent / f'{name}.log'})" for name, error in failures]
        if all(isinstance(error, UserError) for _, error in failures):  # the user's to fix: one line, exit 2
            raise UserError(f"{len(failures)} of {len(pending)} runs failed: " + "; ".join(lines))
        raise RuntimeError("some runs failed:\n  " + "\n  ".join(lines))


def _train_one(root: Path, protocol: Protocol, name: str, cache_dir: Path | None, device: str | None, threads: int) -> float:
    torch.set_num_threads(threads)
    log = Path(root) / "runs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "a") as stream, redirect_stdout(stream), redirect_stderr(stream):  # a worker may train several runs
        RunStore(root, protocol, show_progress=False, cache_dir=cache_dir, device=device).ensure(name)
    return time.perf_counter() - started
