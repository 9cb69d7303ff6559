"""An accuracy grid as files: CSV (one row per cell) and JSON (the matrix), each written atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import torch

from dnnet.errors import MissingFile, UserError
from dnnet.evaluation.tta import NO_TTA
from dnnet.utils.atomic_file import atomic_write


def grid_name(split: str, tta: str = NO_TTA) -> str:
    """What a grid's files are called after "accuracy_": the split, and the test-time augmentation if any ("val",
    "val_tta-flip"), so that a grid with TTA never replaces the plain one beside it."""
    return split if tta == NO_TTA else f"{split}_tta-{tta}"


def write_accuracy_grid(accuracy: torch.Tensor, run_dir: Path, split: str, meta: dict[str, Any],
                        tta: str = NO_TTA) -> dict[str, Path]:
    """Writes accuracy_<split>.csv and .json, or accuracy_<split>_tta-<tta>.* for a grid evaluated with test-time
    augmentation (figures: `dnnet.reporting.plot_accuracy_grid`); the JSON records `tta` ("none" or the mode) and
    `meta` (config, provenance...)."""
    depths, widths = accuracy.shape
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["depth", "width", "accuracy"])
    for d in range(depths):
        for w in range(widths):
            writer.writerow([d + 1, w + 1, f"{accuracy[d, w].item():.6f}"])
    record = {"split": split, "tta": tta, "accuracy": [[round(v, 6) for v in row] for row in accuracy.tolist()], **meta}
    name = grid_name(split, tta)
    paths = {"csv": Path(run_dir) / f"accuracy_{name}.csv", "json": Path(run_dir) / f"accuracy_{name}.json"}
    for kind, text in (("csv", rows.getvalue()), ("json", json.dumps(record, indent=2) + "\n")):
        with atomic_write(paths[kind]) as stream:
            stream.write(text.encode())
    return paths


def read_accuracy_grid(run_dir: Path, split: str, shape: tuple[int, int] | None = None) -> torch.Tensor:
    """The (depths, widths) accuracy grid that `write_accuracy_grid` stored for `split`, as float64; a file that
    is not such a grid (or not of `shape`, the network's cells) is a UserError naming it."""
    path = Path(run_dir) / f"accuracy_{split}.json"
    if not path.is_file():
        raise MissingFile(f"{path} not found: run `dnnet eval {run_dir} --split {split}` first")
    try:
        grid = torch.tensor(json.loads(path.read_text())["accuracy"], dtype=torch.float64)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path} is not an accuracy grid that dnnet wrote ({type(error).__name__}: {error})") from error
    if grid.dim() != 2 or (shape is not None and tuple(grid.shape) != tuple(shape)):
        expected = f"{shape[0]} x {shape[1]}, the network's exits x widths" if shape else "a (depths, widths) matrix"
        raise UserError(f"{path} holds a grid of shape {tuple(grid.shape)}, not {expected}: re-run `dnnet eval {run_dir}`")
    if not torch.isfinite(grid).all() or (grid < 0).any() or (grid > 1).any():
        raise UserError(f"{path} holds accuracies outside [0, 1] or not finite: re-run `dnnet eval {run_dir}`")
    return grid


def read_optional_grid(run_dir: Path, split: str, shape: tuple[int, int] | None = None) -> torch.Tensor | None:
    """`read_accuracy_grid`, or None when the run has no grid of `split` yet (a damaged one is still an error)."""
    if not (Path(run_dir) / f"accuracy_{split}.json").is_file():
        return None
    return read_accuracy_grid(run_dir, split, shape)
