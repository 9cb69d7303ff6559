"""int8 cells: post-training static quantization of an exported ONNX cell with onnxruntime (weights int8 per output
channel, activations uint8, QDQ format), calibrated on a few hundred of the run's training images; and what it costs,
measured beside the float cell on the same images and the same machine."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dnnet.deploy.export import finish_onnx
from dnnet.errors import UserError
from dnnet.runs import TrainedRun


def calibration_images(run: TrainedRun, count: int) -> np.ndarray:
    """`count` of the run's training images, normalised, drawn with the run's seed."""
    if count < 1:
        raise UserError(f"--calibration-images must be at least 1, got {count}")
    train = run.data().train
    chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(run.record.train_config.seed))[:count]
    return run.normalize(train.images[chosen]).numpy()


def quantize_int8(float_path: Path, int8_path: Path, calibration: np.ndarray, metadata: dict[str, str]) -> None:
    """Writes `int8_path` from the float ONNX cell `float_path`; `calibration`: (N, C, H, W) float32, normalised.
    The file carries `metadata`, says how it was quantized, and passes onnx.checker."""
    quantize_onnx_file(float_path, int8_path, calibration)
    finish_onnx(int8_path, int8_metadata(metadata, len(calibration)))


def int8_metadata(metadata: dict[str, str], calibration_count: int) -> dict[str, str]:
    """The float cell's metadata for its int8 file: its accuracies are the float cell's, and say so."""
    renamed = {key.replace("dnnet_", "dnnet_float_", 1) if key.endswith("_accuracy") else key: value for key, value in metadata.items()}
    return {**renamed, "dnnet_precision": "int8",
            "dnnet_quantization": f"int8 static (QDQ), {calibration_count} calibration images"}


def quantize_onnx_file(float_path: Path, int8_path: Path, calibration: np.ndarray) -> None:
    """The quantization alone (what latency tables of int8 cells time)."""
    try:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as error:
        raise UserError("int8 cells need onnxruntime's quantization tools: pip install 'doubly-nested-networks[export]'") from error

    import onnx

    input_name = onnx.load(str(float_path)).graph.input[0].name

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(np.array_split(calibration, max(1, len(calibration) // 32)))

        def get_next(self) -> dict | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)  # shapes the calibrator relies on
        quantize_static(str(prepared), str(int8_path), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def onnx_accuracy(path: Path, images: np.ndarray, labels: np.ndarray, batch: int = 500) -> float:
    """Top-1 accuracy of an ONNX cell on normalised images."""
    session = _session(path, threads=0)
    name = session.get_inputs()[0].name
    hits = sum(int((session.run(None, {name: images[i : i + batch]})[0].argmax(1) == labels[i : i + batch]).sum())
               for i in range(0, len(images), batch))
    return hits / len(images)


def onnx_latency_ms(paths: list[Path], image: np.ndarray, repeats: int = 50, threads: int = 1) -> list[float]:
    """Median milliseconds per call of each ONNX file on one image, timed in interleaved rounds (a slow moment of the
    machine falls on every file alike)."""
    sessions = [_session(path, threads) for path in paths]
    names = [s.get_inputs()[0].name for s in sessions]
    times: list[list[float]] = [[] for _ in paths]
    for _ in range(repeats + 3):
        for i, (session, name) in enumerate(zip(sessions, names)):
            start = time.perf_counter()
            session.run(None, {name: image})
            times[i].append(1e3 * (time.perf_counter() - start))
    return [statistics.median(t[3:]) for t in times]  # the first rounds warm the sessions up


def _session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # quantized graphs note fallbacks at warning level
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
