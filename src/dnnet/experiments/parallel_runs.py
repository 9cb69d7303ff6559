"""Training an experiment's runs several at a time, each in its own process.

The networks are small: one run leaves most of a GPU idle, so a few processes side by side finish a
protocol sooner. On a 2-core CPU one process at a time is as fast (the default, `jobs=1`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from dnnet.experiments.protocols import Protocol


def runs_needed(experiment: str, protocol: Protocol) -> list[str]:
    """The training runs an experiment reads, in the order it reads them."""
    first = protocol.seeds[0]
    if experiment == "fig3":
        return []
    if experiment == "fig5":
        return [f"{network}_s{seed}" for seed in protocol.seeds for network in ("dnnet", "anytime")]
    if experiment == "fig4":
        return [f"dnnet_s{first}", f"plain_s{first}", f"sandwich_s{first}", f"anytime_s{first}",
                *[f"plain_g{groups}_s{first}" for groups in protocol.full_training_groups]]
    if experiment == "lambda":
        return [protocol.lambda_run(variant) for variant in protocol.lambda_variants]
    raise ValueError(f"unknown experiment {experiment!r}")


def train_in_parallel(root: Path, protocol: Protocol, names: list[str], jobs: int, cache_dir: Path | None = None) -> None:
    """Trains (or resumes) the unfinished runs among `names`, `jobs` processes at a time.

    Each process writes its output to root/runs/NAME.log; a failed run raises here after the others end.
    """
    from dnnet.experiments.run_store import RunStore

    store = RunStore(root, protocol, show_progress=False, cache_dir=cache_dir)
    pending = list(dict.fromkeys(name for name in names if not store.is_finished(name)))
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if not pending:
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)  # the processes share the cores instead of oversubscribing them
    context = multiprocessing.get_context("spawn")  # no CUDA state copied from the parent
    failures = []
    with ProcessPoolExecutor(min(jobs, len(pending)), mp_context=context) as pool:
        futures = {pool.submit(_train_one, root, protocol, name, cache_dir, threads): name for name in pending}
        print(f"training {len(pending)} runs, {min(jobs, len(pending))} at a time: {', '.join(pending)}", flush=True)
        for future in as_completed(futures):
            name = futures[future]
            try:
                print(f"  {name} done in {future.result():.0f} s", flush=True)
            except Exception as error:  # noqa: BLE001 - reported together once every run has ended
                failures.append(f"{name}: {error!r} (log: {store.run_dir(name).parent / f'{name}.log'})")
    if failures:
        raise RuntimeError("some runs failed:\n  " + "\n  ".join(failures))


def _train_one(root: Path, protocol: Protocol, name: str, cache_dir: Path | None, threads: int) -> float:
    import time

    import torch

    from dnnet.experiments.run_store import RunStore

    torch.set_num_threads(threads)
    log = Path(root) / "runs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "a") as stream:
        sys.stdout = sys.stderr = stream
        RunStore(root, protocol, show_progress=False, cache_dir=cache_dir).ensure(name)
    return time.perf_counter() - started
