"""An accuracy grid as files: CSV (one row per cell) and JSON (the matrix), each written atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import torch

from dnnet.atomic_file import atomic_write
from dnnet.errors import MissingFile


def write_accuracy_grid(accuracy: torch.Tensor, run_dir: Path, split: str, meta: dict[str, Any]) -> dict[str, Path]:
    """Writes accuracy_<split>.csv and .json (figures: `dnnet.reporting.plot_accuracy_grid`);
    `meta` (config, provenance...) goes into the JSON."""
    depths, widths = accuracy.shape
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["depth", "width", "accuracy"])
    for d in range(depths):
        for w in range(widths):
            writer.writerow([d + 1, w + 1, f"{accuracy[d, w].item():.6f}"])
    record = {"split": split, "accuracy": [[round(v, 6) for v in row] for row in accuracy.tolist()], **meta}
    paths = {"csv": Path(run_dir) / f"accuracy_{split}.csv", "json": Path(run_dir) / f"accuracy_{split}.json"}
    for kind, text in (("csv", rows.getvalue()), ("json", json.dumps(record, indent=2) + "\n")):
        with atomic_write(paths[kind]) as stream:
            stream.write(text.encode())
    return paths


def read_accuracy_grid(run_dir: Path, split: str) -> torch.Tensor:
    """The (depths, widths) accuracy grid that `write_accuracy_grid` stored for `split`, as float64."""
    path = run_dir / f"accuracy_{split}.json"
    if not path.is_file():
        raise MissingFile(f"{path} not found: run `dnnet eval {run_dir} --split {split}` first")
    return torch.tensor(json.loads(path.read_text())["accuracy"], dtype=torch.float64)
