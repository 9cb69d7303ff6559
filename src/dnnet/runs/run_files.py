"""The files of a run directory, and reading those a trained run is read back from.

    config.json     resolved TrainConfig, architecture, data statistics, provenance (written at the start; RunRecord)
    checkpoint.pt   model, optimizer and position (and with --ema the weights' average), replaced atomically after
                    every epoch and on Ctrl-C
    metrics.jsonl   one row per epoch (and metrics.csv, the same rows)
    finished.json   written last, atomically, once every epoch is trained and both accuracy grids are written

`dnnet.train` writes them; everything else reads them through this package.
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dnnet.errors import MissingFile, UserError
from dnnet.runs.train_config import TrainConfig

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"
METRICS_CSV_FILE = "metrics.csv"
FINISHED_FILE = "finished.json"


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Loads with `weights_only=True`: a checkpoint that would run code when loaded is refused."""
    if not path.is_file():
        raise MissingFile(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # torch's advice about a foreign pickle's protocol: the error below says it
            warnings.simplefilter("ignore", UserWarning)
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


def trained_weights_key(config: TrainConfig) -> str:
    """Which weights of a checkpoint are the trained network: "ema" (the average) for a run with `ema`, else "model"."""
    return "ema" if config.optimiser.ema else "model"


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


def is_finished(run_dir: Path) -> bool:
    """True once the run has trained every epoch and written its validation and test grids."""
    return (Path(run_dir) / FINISHED_FILE).is_file()
