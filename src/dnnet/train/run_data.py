"""The data of a run whose config.json is held as a dict, as before `dnnet.runs` (which now finds a run's data again:
`TrainedRun.data()`, `dnnet.runs.run_data`); kept for callers written then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnnet.data import DataSplits
from dnnet.runs.run_data import data_source
from dnnet.runs.run_data import load_run_data as load_recorded_data
from dnnet.runs.run_record import RunData
from dnnet.runs.train_config import TrainConfig

__all__ = ["data_source", "load_run_data"]


def load_run_data(config: TrainConfig, record: dict[str, Any], data_dir: str | None = None,
                  cache_dir: Path | None = None) -> DataSplits:
    """`dnnet.runs.run_data.load_run_data` for a config.json record given as a dict."""
    return load_recorded_data(config, RunData.from_dict(record["data"]), data_dir, cache_dir)
