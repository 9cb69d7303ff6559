"""What travels with a network taken out of its run: how to prepare an image, which cell it is, what it costs and scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dnnet.accounting import cell_resources
from dnnet.config import NetConfig, cell_name
from dnnet.evaluation import read_accuracy_grid


def preprocessing_of(record: dict[str, Any]) -> dict[str, Any]:
    """The preprocessing a run's config.json record implies: per-channel mean and std (0..1 units), image shape, classes."""
    data = record["data"]
    return {"mean": data["mean"], "std": data["std"], "image_shape": data["image_shape"], "classes": data["classes"],
            "scale": "pixels / 255, then (x - mean) / std per channel"}


def run_accuracy(run_dir: Path, split: str, config: NetConfig) -> list[list[float]] | None:
    """The run's accuracy grid of `split` as nested lists, or None when it was not evaluated."""
    if not (Path(run_dir) / f"accuracy_{split}.json").is_file():
        return None
    return read_accuracy_grid(run_dir, split, config.grid_shape).tolist()


def cell_metadata(run_dir: Path, record: dict[str, Any], config: NetConfig, depth: int, width: int) -> dict[str, str]:
    """String metadata of cell (depth, width) for an exported file: preprocessing, the cell, its resources and its
    validation and test accuracy (when the run has them)."""
    metadata = {"dnnet_cell": cell_name(depth, width), "dnnet_preprocessing": json.dumps(preprocessing_of(record)),
                "dnnet_resources": json.dumps(cell_resources(config, depth, width).to_dict())}
    for split in ("val", "test"):
        grid = run_accuracy(run_dir, split, config)
        if grid is not None:
            metadata[f"dnnet_{split}_accuracy"] = str(grid[depth - 1][width - 1])
    return metadata
