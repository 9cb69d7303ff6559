"""The experiments by name, in the order `all` runs them (the headline comparison first)."""

from __future__ import annotations

import time

from dnnet.errors import UserError
from dnnet.experiments import fig3, fig4, fig5, lambda_weighting
from dnnet.experiments.protocols import Protocol
from dnnet.experiments.result_files import write_result
from dnnet.experiments.run_store import RunStore

# each module has `run(store)` and `runs_needed(protocol)`, the training runs it reads
_MODULES = {"fig3": fig3, "fig5": fig5, "fig4": fig4, "lambda": lambda_weighting}
EXPERIMENTS = {name: module.run for name, module in _MODULES.items()}


def _module(name: str):
    if name not in _MODULES:
        raise UserError(f"unknown experiment {name!r}; choose one of {', '.join(_MODULES)} or all")
    return _MODULES[name]


def runs_needed(name: str, protocol: Protocol) -> list[str]:
    """The training runs an experiment reads (what `--jobs` trains ahead of it)."""
    return _module(name).runs_needed(protocol)


def run_experiment(name: str, store: RunStore) -> dict:
    """Runs one experiment (training the runs it needs that are not finished); returns its summary."""
    run = _module(name).run
    started = time.perf_counter()
    summary = run(store)
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    return summary


def record_suite_time(store: RunStore, names: list[str], seconds: float) -> None:
    """How long `dnnet experiment all` took, beside the results."""
    write_result(store.root, "suite_time", [{"experiments": " ".join(names), "wall_seconds": round(seconds, 1)}],
                 {"protocol": store.protocol.name, "epochs": store.protocol.epochs})
