"""Measured latency of every cell: each extracted sub-network timed on this machine."""

from __future__ import annotations

import functools
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dnnet.config import cell_name
from dnnet.deploy.export import write_onnx
from dnnet.deploy.int8_cells import quantize_onnx_file
from dnnet.errors import MissingFile, UserError
from dnnet.models import DNNet
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.utils.progress_bar import progress
from dnnet.utils.provenance import provenance

RUNTIMES = ("eager", "onnxruntime", "onnxruntime-int8")
INT8 = "onnxruntime-int8"  # each cell quantized to int8 (static, calibrated on the run's training images)


def measure_latency(model: DNNet, image_shape: tuple[int, int, int], batch: int = 1, repeats: int = 7,
                    warmup: int = 2, threads: int = 1, runtime: str = "eager", calibration: np.ndarray | None = None) -> torch.Tensor:
    """Median milliseconds per forward pass of every cell, (depths, widths).

    Cells are timed in interleaved rounds (every cell once per round), so a slow moment of the
    machine spreads over all cells instead of landing on a few. Batch norm is folded, as deployed.
    `calibration` (normalised images) quantizes the cells for the int8 runtime.
    """
    if runtime not in RUNTIMES:
        raise UserError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if (runtime == INT8) != (calibration is not None):
        raise UserError(f"calibration images go with the {INT8} runtime, and it needs them")
    config = model.config
    cells = [(d, w) for d in range(1, config.num_exits + 1) for w in range(1, config.groups + 1)]
    x = torch.randn(batch, *image_shape)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with tempfile.TemporaryDirectory() as scratch, torch.no_grad():
            build = _eager_runner if runtime == "eager" else functools.partial(_onnxruntime_runner, calibration=calibration)
            prepared = progress(cells, f"preparing {len(cells)} cells ({runtime})", unit="cell")
            runners = {cell: build(slice_subnet(model.eval(), *cell), x, threads, Path(scratch)) for cell in prepared}
            samples = _interleaved_times(runners, warmup, repeats)
    finally:
        torch.set_num_threads(previous_threads)
    table = torch.zeros(config.num_exits, config.groups, dtype=torch.float64)
    for (d, w), times in samples.items():
        table[d - 1, w - 1] = statistics.median(times)
    return table


def _interleaved_times(runners: dict, warmup: int, repeats: int) -> dict[tuple[int, int], list[float]]:
    for _ in range(warmup):
        for run in runners.values():
            run()
    samples: dict[tuple[int, int], list[float]] = {cell: [] for cell in runners}
    for _ in progress(range(repeats), f"timing {len(runners)} cells", unit="round"):  # the bar moves between rounds
        for cell, run in runners.items():
            start = time.perf_counter()
            run()
            samples[cell].append(1e3 * (time.perf_counter() - start))
    return samples


def _eager_runner(subnet, x: torch.Tensor, threads: int, scratch: Path):
    folded = fold_batchnorm(subnet)
    return lambda: folded(x)


def _onnxruntime_runner(subnet, x: torch.Tensor, threads: int, scratch: Path, calibration: np.ndarray | None = None):
    """The cell as an ONNX session; with `calibration` images, its int8 version (static quantization)."""
    try:
        import onnxruntime
    except ImportError as error:  # optional extra
        raise UserError("the onnxruntime runtime needs onnxruntime: pip install 'doubly-nested-networks[export]'") from error
    path = scratch / f"{cell_name(subnet.depth, subnet.width)}.onnx"
    write_onnx(subnet, path, x, dynamo=False)
    if calibration is not None:
        path, float_path = scratch / f"{cell_name(subnet.depth, subnet.width)}_int8.onnx", path
        quantize_onnx_file(float_path, path, calibration)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x.numpy()}
    return lambda: session.run(None, feed)


def latency_path(run_dir: Path, runtime: str) -> Path:
    return Path(run_dir) / f"latency_{runtime}.json"


def write_latency(run_dir: Path, runtime: str, table: torch.Tensor, settings: dict) -> Path:
    record = {"runtime": runtime, "milliseconds": table.tolist(), **settings, "provenance": provenance()}
    path = latency_path(run_dir, runtime)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_latency(run_dir: Path, runtime: str) -> torch.Tensor:
    path = latency_path(run_dir, runtime)
    if not path.is_file():
        raise MissingFile(f"{path} not found: run `dnnet latency {run_dir} --runtime {runtime}` on the target machine first")
    return torch.tensor(json.loads(path.read_text())["milliseconds"], dtype=torch.float64)
