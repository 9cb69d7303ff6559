"""One folder a device can carry: the cells on a run's validation Pareto front as ONNX files, a manifest, and a
selector that needs only onnxruntime and numpy (bundle_selector.py, copied in as select_cell.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnnet.config import cell_name
from dnnet.deploy import bundle_selector
from dnnet.deploy.export import export_subnet
from dnnet.deploy.int8_cells import onnx_accuracy, quantize_int8
from dnnet.deploy.latency import INT8, latency_path
from dnnet.deploy.run_metadata import cell_metadata, preprocessing_of
from dnnet.runs import open_trained
from dnnet.selection import offered_cells, pareto_front
from dnnet.slicing import slice_subnet
from dnnet.utils.progress_bar import progress
from dnnet.utils.provenance import provenance

FORMAT = bundle_selector.FORMAT  # defined where it is read: the selector copied into every bundle


@dataclass(frozen=True)
class Int8Data:
    """What quantizing a bundle's cells needs: calibration images, and validation images to measure them on (normalised)."""

    calibration: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


def measured_latency(run_dir: Path, depth: int, width: int, runtime: str = "onnxruntime") -> dict[str, Any]:
    """The cell's ONNX latency from the run's `dnnet latency --runtime RUNTIME` table, with where it was
    measured; nothing when the run has no such table (a latency is only worth what its machine says)."""
    path = latency_path(run_dir, runtime)
    if not path.is_file():
        return {}
    table = json.loads(path.read_text())
    return {f"latency_ms_{runtime}": table["milliseconds"][depth - 1][width - 1],
            "latency_measured_on": {k: table["provenance"].get(k) for k in ("machine", "cpu_count", "platform")} |
                                   {k: table.get(k) for k in ("batch", "threads")}}


def file_facts(path: Path) -> dict[str, Any]:
    """What the selector checks a cell's file against before it reads it whole: its size in bytes, then its sha256."""
    return {"bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def write_bundle(run_dir: Path, out: Path, fields: tuple[str, ...] = ("macs", "peak_act_bytes"),
                 int8: Int8Data | None = None) -> dict[str, Any]:
    """Writes the Pareto cells of `run_dir` (validation accuracy against `fields`) into `out`; returns the manifest.
    With `int8`, each cell is quantized and its validation accuracy measured as int8 (beside the float grid's)."""
    run = open_trained(run_dir)
    model, val, image_shape = run.model, run.grid("val"), run.record.data.image_shape
    out.mkdir(parents=True, exist_ok=True)
    cells = []
    front = pareto_front(val, offered_cells(model.config), fields)
    for resources in progress(front, "exporting the Pareto cells", total=len(front), unit="cell"):
        name = cell_name(resources.depth, resources.width)
        file = f"{name}.onnx" if int8 is None else f"{name}_int8.onnx"
        accuracy = {"val_accuracy": float(val[resources.depth - 1, resources.width - 1])}
        subnet = slice_subnet(model, resources.depth, resources.width)
        metadata = cell_metadata(run, resources.depth, resources.width)
        if int8 is None:
            export_subnet(subnet, out / file, "onnx", image_shape, metadata)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                export_subnet(subnet, Path(scratch) / "float.onnx", "onnx", image_shape, metadata)
                quantize_int8(Path(scratch) / "float.onnx", out / file, int8.calibration, metadata)
            accuracy = {"val_accuracy": onnx_accuracy(out / file, int8.val_images, int8.val_labels),
                        "val_accuracy_float": accuracy["val_accuracy"]}
        cells.append({"cell": name, "precision": "float32" if int8 is None else "int8", **resources.to_dict(), **accuracy,
                      "file": file, **file_facts(out / file),
                      **measured_latency(run_dir, resources.depth, resources.width, "onnxruntime" if int8 is None else INT8)})
    manifest = {"format": FORMAT, "run": str(run_dir), "pareto_of": ["val_accuracy", *fields],
                "preprocessing": preprocessing_of(run.record), "cells": cells, "provenance": provenance()}
    (out / bundle_selector.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.copyfile(bundle_selector.__file__, out / "select_cell.py")
    return manifest
