"""The experiments by name, in the order `all` runs them (the headline comparison first)."""

from __future__ import annotations

import time

from dnnet.experiments import fig3, fig4, fig5, lambda_table
from dnnet.experiments.protocols import Protocol
from dnnet.experiments.result_files import write_result
from dnnet.experiments.run_store import RunStore

EXPERIMENTS = {"fig3": fig3.run, "fig5": fig5.run, "fig4": fig4.run, "lambda": lambda_table.run}
_RUNS_NEEDED = {"fig3": fig3.runs_needed, "fig5": fig5.runs_needed, "fig4": fig4.runs_needed,
                "lambda": lambda_table.runs_needed}


def runs_needed(name: str, protocol: Protocol) -> list[str]:
    """The training runs an experiment reads (what `--jobs` trains ahead of it)."""
    if name not in _RUNS_NEEDED:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} or all")
    return _RUNS_NEEDED[name](protocol)


def run_experiment(name: str, store: RunStore) -> dict:
    """Runs one experiment (training the runs it needs that are not finished); returns its summary."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} or all")
    started = time.perf_counter()
    summary = EXPERIMENTS[name](store)
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    return summary


def record_suite_time(store: RunStore, names: list[str], seconds: float) -> None:
    """How long `dnnet experiment all` took, beside the results."""
    write_result(store.root, "suite_time", [{"experiments": " ".join(names), "wall_seconds": round(seconds, 1)}],
                 {"protocol": store.protocol.name, "epochs": store.protocol.epochs})
