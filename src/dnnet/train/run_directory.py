"""The files of a run directory, and the trained model they hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dnnet.atomic_file import atomic_write
from dnnet.config import NetConfig
from dnnet.models import DNNet
from dnnet.train.checkpoint import load_checkpoint
from dnnet.train.train_config import TrainConfig

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
FINISHED_FILE = "finished.json"  # written last, atomically, once every epoch is trained and both grids are written


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory ({CONFIG_FILE} not found)")
    return json.loads(path.read_text())


def load_trained_model(run_dir: Path, map_location: str = "cpu") -> tuple[DNNet, dict[str, Any]]:
    """The model of the run's checkpoint, in eval mode, and the run's config record."""
    record = read_run_config(run_dir)
    checkpoint = load_checkpoint(Path(run_dir) / CHECKPOINT_FILE, map_location)
    model = DNNet(NetConfig.from_dict(record["net_config"]))
    model.load_state_dict(checkpoint["model"])
    return model.eval(), record


def train_config_of(record: dict[str, Any]) -> TrainConfig:
    return TrainConfig.from_dict(record["train_config"])


def mark_finished(run_dir: Path, record: dict[str, Any]) -> None:
    """Marks the run complete; written atomically, so a kill at any moment leaves no half-written marker."""
    with atomic_write(Path(run_dir) / FINISHED_FILE) as stream:
        stream.write((json.dumps(record, indent=2) + "\n").encode())


def is_finished(run_dir: Path) -> bool:
    """True once the run has trained every epoch and written its validation and test grids."""
    return (Path(run_dir) / FINISHED_FILE).is_file()
