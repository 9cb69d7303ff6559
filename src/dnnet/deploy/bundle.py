"""One folder a device can carry: the cells on a run's validation Pareto front as ONNX files, a manifest, and a
selector that needs only onnxruntime and numpy (bundle_selector.py, copied in as select_cell.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from dnnet.config import cell_name
from dnnet.deploy import bundle_selector
from dnnet.deploy.export import export_subnet
from dnnet.deploy.latency import latency_path
from dnnet.deploy.run_metadata import cell_metadata, preprocessing_of
from dnnet.evaluation import read_accuracy_grid
from dnnet.provenance import provenance
from dnnet.selection import offered_cells, pareto_front
from dnnet.slicing import slice_subnet
from dnnet.train.run_directory import load_trained_model

FORMAT = "dnnet-bundle/1"


def measured_latency(run_dir: Path, depth: int, width: int) -> dict[str, Any]:
    """The cell's ONNX latency from the run's `dnnet latency --runtime onnxruntime` table, with where it was
    measured; nothing when the run has no such table (a latency is only worth what its machine says)."""
    path = latency_path(run_dir, "onnxruntime")
    if not path.is_file():
        return {}
    table = json.loads(path.read_text())
    return {"latency_ms_onnxruntime": table["milliseconds"][depth - 1][width - 1],
            "latency_measured_on": {k: table["provenance"].get(k) for k in ("machine", "cpu_count", "platform")} |
                                   {k: table.get(k) for k in ("batch", "threads")}}


def write_bundle(run_dir: Path, out: Path, fields: tuple[str, ...] = ("macs", "peak_act_bytes")) -> dict[str, Any]:
    """Writes the Pareto cells of `run_dir` (validation accuracy against `fields`) into `out`; returns the manifest."""
    model, record = load_trained_model(run_dir)
    val = read_accuracy_grid(run_dir, "val", model.config.grid_shape)
    image_shape = tuple(record["data"]["image_shape"])
    out.mkdir(parents=True, exist_ok=True)
    cells = []
    for resources in pareto_front(val, offered_cells(model.config), fields):
        name = cell_name(resources.depth, resources.width)
        file = f"{name}.onnx"
        accuracy = float(val[resources.depth - 1, resources.width - 1])
        export_subnet(slice_subnet(model, resources.depth, resources.width), out / file, "onnx", image_shape,
                      cell_metadata(run_dir, record, model.config, resources.depth, resources.width))
        cells.append({"cell": name, **resources.to_dict(), "val_accuracy": accuracy, "file": file,
                      "sha256": hashlib.sha256((out / file).read_bytes()).hexdigest(),
                      **measured_latency(run_dir, resources.depth, resources.width)})
    manifest = {"format": FORMAT, "run": str(run_dir), "pareto_of": ["val_accuracy", *fields], "preprocessing": preprocessing_of(record),
                "cells": cells, "provenance": provenance()}
    (out / bundle_selector.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.copyfile(bundle_selector.__file__, out / "select_cell.py")
    return manifest
