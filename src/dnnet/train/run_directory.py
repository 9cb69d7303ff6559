"""The files of a run directory: config, checkpoint, per-epoch metrics, the finished marker, the trained model.

    config.json     resolved TrainConfig, architecture, data statistics, provenance (written at the start)
    checkpoint.pt   model, optimizer and position (and with --ema the weights' average), replaced atomically after
                    every epoch and on Ctrl-C
    metrics.jsonl   one row per epoch (and metrics.csv, the same rows)
    finished.json   written last, atomically, once every epoch is trained and both accuracy grids are written
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dnnet.atomic_file import atomic_write
from dnnet.config import NetConfig
from dnnet.errors import MissingFile, UserError
from dnnet.json_file import read_json_object
from dnnet.models import DNNet
from dnnet.train.train_config import TrainConfig

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"
METRICS_CSV_FILE = "metrics.csv"
FINISHED_FILE = "finished.json"


def write_run_config(run_dir: Path, record: dict[str, Any]) -> None:
    """Writes config.json (the resolved settings, data statistics and provenance), atomically."""
    with atomic_write(Path(run_dir) / CONFIG_FILE) as stream:
        stream.write((json.dumps(record, indent=2) + "\n").encode())


class RunRecord(dict):
    """config.json's record; a key it lacks is a UserError naming the file, not a KeyError deep in a command."""

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        super().__init__(values)
        self.path = path

    def __missing__(self, key: str) -> Any:
        raise UserError(f"{self.path} lacks {key!r}: it is not a config.json that dnnet train wrote (or it was edited)")


def read_run_config(run_dir: Path) -> RunRecord:
    """The config record of `run_dir` (see `write_run_config`); a clear error if it is not a run directory."""
    path = Path(run_dir) / CONFIG_FILE
    values = read_json_object(path, f"{run_dir} is not a run directory ({CONFIG_FILE} not found)", "a run's config record")
    return RunRecord(values, path)


def train_config_of(record: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of a run's config.json record."""
    return TrainConfig.from_dict(record["train_config"])


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Temporary file, flush, fsync, rename: a kill at any moment leaves the previous file intact."""
    buffer = io.BytesIO()  # serialised first: a full disk then fails as an OSError of the write, not inside torch.save
    torch.save(state, buffer)
    with atomic_write(path) as stream:
        stream.write(buffer.getbuffer())


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Loads with `weights_only=True`: a checkpoint that would run code when loaded is refused."""
    if not path.is_file():
        raise MissingFile(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "unsupported global" in str(error).lower():  # a Python object refused; torch advises the unsafe way round
            raise UserError(f"{path} is not a checkpoint that dnnet train wrote: it holds Python objects beyond tensors "
                            "and plain values, and loading them could run code, so dnnet does not") from error
        raise UserError(f"{path} is not a checkpoint that dnnet train wrote, or is damaged (cut short or overwritten): "
                        "it cannot be read as one (UnpicklingError)") from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as error:
        # a truncated, unreadable or foreign file: its own error ("[Errno 22] Invalid argument") says little
        raise UserError(f"{path} is not a checkpoint that dnnet train wrote, or is damaged (cut short or overwritten): "
                        f"it cannot be read as one ({type(error).__name__})") from error


def checkpoint_train_config(run_dir: Path) -> TrainConfig:
    """The config a resumed run continues with (the one saved in its checkpoint)."""
    return TrainConfig.from_dict(load_checkpoint(Path(run_dir) / CHECKPOINT_FILE)["train_config"])


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


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The per-epoch rows, first epoch first; [] before the first epoch ends. A last line cut off mid-write (power
    loss) is skipped with a warning on stderr (a resume rewrites the file without it); any other bad line is refused."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    lines = [(number, line) for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if line.strip()]
    rows = []
    for index, (number, line) in enumerate(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif index == len(lines) - 1 and not line.rstrip().endswith("}"):
            print(f"dnnet: {path}: its last line is incomplete (a write was cut off); it is skipped", file=sys.stderr)
        else:
            raise UserError(f"{path}, line {number}, is not JSON (the file was edited or damaged)")
    return rows


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


def is_finished(run_dir: Path) -> bool:
    """True once the run has trained every epoch and written its validation and test grids."""
    return (Path(run_dir) / FINISHED_FILE).is_file()


def load_trained_model(run_dir: Path, map_location: str = "cpu") -> tuple[DNNet, dict[str, Any]]:
    """The trained network of the run's checkpoint, in eval mode, and the run's config record. A run trained with
    `ema` gives its weights' moving average (what it evaluated), not the last weights of the optimizer."""
    record = read_run_config(run_dir)
    checkpoint = load_checkpoint(Path(run_dir) / CHECKPOINT_FILE, map_location)
    model = DNNet(NetConfig.from_dict(record["net_config"]))
    load_weights(model, checkpoint, Path(run_dir) / CHECKPOINT_FILE, key=trained_weights_key(train_config_of(record)))
    return model.eval(), record


def trained_weights_key(config: TrainConfig) -> str:
    """Which weights of a checkpoint are the trained network: "ema" (the average) for a run with `ema`, else "model"."""
    return "ema" if config.ema else "model"


def load_weights(model: nn.Module, checkpoint: dict[str, Any], path: Path, key: str = "model") -> None:
    """The checkpoint's weights under `key` ("model": the optimizer's; "ema": their average) into `model`; one line
    naming the file when they are missing or of another architecture."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get(key), dict):
        what = "model weights" if key == "model" else f"{key!r} weights"
        raise UserError(f"{path} holds no {what}: not a checkpoint that dnnet train wrote with these settings")
    try:
        model.load_state_dict(checkpoint[key])
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise UserError(f"{path} does not fit the architecture in {CONFIG_FILE} ({first})") from error
