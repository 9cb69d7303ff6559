"""What travels with a network taken out of its run: how to prepare an image, which cell it is, what it costs and scores."""

from __future__ import annotations

import json
from typing import Any

from dnnet.accounting import cell_resources
from dnnet.config import cell_name
from dnnet.runs import RunRecord, TrainedRun


def preprocessing_of(record: RunRecord) -> dict[str, Any]:
    """The preprocessing a run's record implies: per-channel mean and std (0..1 units), image shape, classes."""
    data = record.data
    return {"mean": list(data.mean), "std": list(data.std), "image_shape": list(data.image_shape), "classes": list(data.classes),
            "scale": "pixels / 255, then (x - mean) / std per channel"}


def cell_metadata(run: TrainedRun, depth: int, width: int) -> dict[str, str]:
    """String metadata of cell (depth, width) for an exported file: preprocessing, the cell, its resources and its
    validation and test accuracy (when the run has them)."""
    metadata = {"dnnet_cell": cell_name(depth, width), "dnnet_preprocessing": json.dumps(preprocessing_of(run.record)),
                "dnnet_resources": json.dumps(cell_resources(run.record.net_config, depth, width).to_dict())}
    for split in ("val", "test"):
        grid = run.optional_grid(split)
        if grid is not None:
            metadata[f"dnnet_{split}_accuracy"] = str(grid.tolist()[depth - 1][width - 1])
    return metadata
