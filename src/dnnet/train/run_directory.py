"""Writing a run directory (its files are named and read in `dnnet.runs.run_files`): config.json, the checkpoint, the
per-epoch metrics and the finished marker.

The readers further down (`read_run_config`, `load_trained_model`, `train_config_of`) give config.json as a dict, as
they did before `dnnet.runs`; they stay for callers written then. New code reads `dnnet.runs.TrainedRun`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import torch

from dnnet.errors import MissingFile
from dnnet.models import DNNet
from dnnet.runs import TrainedRun
from dnnet.runs.run_files import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    FINISHED_FILE,
    METRICS_CSV_FILE,
    METRICS_FILE,
    is_finished,
    load_checkpoint,
    load_weights,
    read_metrics,
    trained_weights_key,
)
from dnnet.runs.run_record import RunRecord
from dnnet.runs.train_config import TrainConfig
from dnnet.utils.atomic_file import atomic_write

__all__ = ["CHECKPOINT_FILE", "CONFIG_FILE", "FINISHED_FILE", "METRICS_CSV_FILE", "METRICS_FILE", "append_metrics",
           "checkpoint_train_config", "is_finished", "load_checkpoint", "load_trained_model", "load_weights",
           "mark_finished", "read_metrics", "read_run_config", "save_checkpoint", "train_config_of", "trained_weights_key",
           "truncate_metrics", "write_run_config"]


def write_run_config(run_dir: Path, record: RunRecord) -> None:
    """Writes config.json (the resolved settings, data statistics and provenance), atomically."""
    with atomic_write(Path(run_dir) / CONFIG_FILE) as stream:
        stream.write((json.dumps(record.to_dict(), indent=2) + "\n").encode())


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Temporary file, flush, fsync, rename: a kill at any moment leaves the previous file intact."""
    buffer = io.BytesIO()  # serialised first: a full disk then fails as an OSError of the write, not inside torch.save
    torch.save(state, buffer)
    with atomic_write(path) as stream:
        stream.write(buffer.getbuffer())


def checkpoint_train_config(run_dir: Path) -> TrainConfig:
    """The config a resumed run continues with (the one saved in its checkpoint); a run stopped before its first
    checkpoint is said to start over."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file() and (Path(run_dir) / CONFIG_FILE).is_file():
        raise MissingFile(f"nothing to resume: no {CHECKPOINT_FILE} in {run_dir} (the run stopped before its first "
                          "checkpoint); start it over: the same command without --resume")
    return TrainConfig.from_dict(load_checkpoint(path)["train_config"])


def append_metrics(run_dir: Path, row: dict[str, Any]) -> None:
    """Appends one epoch's row to metrics.jsonl."""
    with (run_dir / METRICS_FILE).open("a") as stream:
        stream.write(json.dumps(row) + "\n")
    csv_path = run_dir / METRICS_CSV_FILE
    new = not csv_path.exists()
    with csv_path.open("a", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def truncate_metrics(run_dir: Path, epochs_done: int) -> None:
    """Drops rows past `epochs_done` (written after the checkpoint a resumed run starts from)."""
    rows = [row for row in read_metrics(run_dir) if row["epoch"] <= epochs_done]
    for name in (METRICS_FILE, METRICS_CSV_FILE):
        (run_dir / name).unlink(missing_ok=True)
    for row in rows:
        append_metrics(run_dir, row)


def mark_finished(run_dir: Path, record: dict[str, Any]) -> None:
    """Marks the run complete; written atomically, so a kill at any moment leaves no half-written marker."""
    with atomic_write(Path(run_dir) / FINISHED_FILE) as stream:
        stream.write((json.dumps(record, indent=2) + "\n").encode())


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """config.json of `run_dir` as a dict (`RunRecord.read(run_dir).to_dict()`); read `RunRecord` instead."""
    return RunRecord.read(run_dir).to_dict()


def train_config_of(record: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of a run's config.json record as a dict (`RunRecord.train_config`)."""
    return TrainConfig.from_dict(record["train_config"])


def load_trained_model(run_dir: Path) -> tuple[DNNet, dict[str, Any]]:
    """The trained network of the run, in eval mode, and its config.json as a dict (`TrainedRun.model`, with `ema`
    the weights' average; `TrainedRun.record`)."""
    run = TrainedRun.open(run_dir)
    return run.model, run.record.to_dict()
