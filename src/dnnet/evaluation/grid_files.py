"""An accuracy grid as files: CSV (one row per cell), JSON (the matrix) and a heatmap."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import torch

from dnnet.reporting import plot_grid_heatmap


def write_accuracy_grid(accuracy: torch.Tensor, run_dir: Path, split: str, meta: dict[str, Any]) -> dict[str, Path]:
    """Writes accuracy_<split>.csv/.json/.png; `meta` (config, provenance...) goes into the JSON."""
    depths, widths = accuracy.shape
    csv_path = run_dir / f"accuracy_{split}.csv"
    with csv_path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["depth", "width", "accuracy"])
        for d in range(depths):
            for w in range(widths):
                writer.writerow([d + 1, w + 1, f"{accuracy[d, w].item():.6f}"])
    json_path = run_dir / f"accuracy_{split}.json"
    record = {"split": split, "accuracy": [[round(v, 6) for v in row] for row in accuracy.tolist()], **meta}
    json_path.write_text(json.dumps(record, indent=2) + "\n")
    png_path = plot_grid_heatmap(
        100 * accuracy.numpy(), f"{meta.get('preset', '')} {split} accuracy (%)", "accuracy (%)",
        run_dir / f"accuracy_{split}.png", annotate_format=".0f" if depths * widths <= 400 else None,
    )
    return {"csv": csv_path, "json": json_path, "png": png_path}


def read_accuracy_grid(run_dir: Path, split: str) -> torch.Tensor:
    path = run_dir / f"accuracy_{split}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `dnnet eval {run_dir} --split {split}` first")
    return torch.tensor(json.loads(path.read_text())["accuracy"], dtype=torch.float64)
