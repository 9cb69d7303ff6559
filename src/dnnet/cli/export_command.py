"""`dnnet export`: one cell of a trained run as a standalone ONNX, torch.export or safetensors file."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from dnnet.cli.argument_types import cell_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import CELL_SPELLING, cell_name
from dnnet.deploy import FORMATS, export_subnet
from dnnet.deploy.int8_cells import calibration_images, onnx_accuracy, onnx_latency_ms, quantize_int8
from dnnet.deploy.run_metadata import cell_metadata
from dnnet.errors import UserError
from dnnet.runs import TrainedRun, open_trained
from dnnet.slicing import slice_subnet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN",
                        help="a trained run, a weights folder of `dnnet pretrained`, or a preset with shipped weights")
    parser.add_argument("--cell", type=cell_argument, required=True, metavar="DxW",
                        help=f"the cell to export, {CELL_SPELLING}; exit 1 is after the stem")
    parser.add_argument("--format", choices=FORMATS, required=True, help="onnx (checked against onnxruntime), pt2 "
                        "(torch.export) or safetensors (weights)")
    parser.add_argument("--out", type=Path, required=True, help="the file to write")
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="int8: post-training static quantization of the ONNX cell, calibrated on the run's training "
                             "images; prints its test accuracy and latency beside the float cell's")
    parser.add_argument("--tiles", type=int, default=1,
                        help="ONNX of a DNNet cell: each convolution in this many output-group tiles that skip the causal "
                             "zero blocks (fewer MACs, more operations; docs/benchmarks.md measures it; default 1: dense)")
    parser.add_argument("--calibration-images", type=int, default=256, help="training images that calibrate --quantize")
    parser.add_argument("--data-dir", default=None, help="with --quantize: where the run's named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def check_out(run_dir: Path, out: Path, fmt: str) -> None:
    """Refuses an --out that is a folder, or a file of the run directory other than an export of this format
    (`--out RUN/checkpoint.pt` would replace the trained model)."""
    target = out.resolve()
    if target.is_dir():
        raise UserError(f"--out {out} is a folder; give the file to write, e.g. {out / ('cell.' + fmt)}")
    if target.parent == Path(run_dir).resolve() and target.suffix != f".{fmt}":
        raise UserError(f"--out {out} is inside the run directory and does not end in .{fmt}: it could replace "
                        f"the run's own files; name it e.g. {target.stem}.{fmt}")


def run(args: argparse.Namespace) -> int:
    check_out(args.run_dir, args.out, args.format)
    if args.calibration_images < 1:  # checked before a data set is loaded
        raise UserError(f"--calibration-images must be at least 1, got {args.calibration_images}")
    if args.tiles < 1:
        raise UserError(f"--tiles must be at least 1, got {args.tiles}")
    if args.quantize and args.tiles != 1:
        raise UserError("--tiles and --quantize int8 do not combine yet: quantize the dense cell")
    if args.quantize and args.format != "onnx":
        raise UserError(f"--quantize int8 makes an ONNX cell; drop it or use --format onnx (got {args.format})")
    run = open_trained(args.run_dir, args.data_dir, args.cache_dir)
    model = run.model
    depth, width = args.cell
    model.config.check_cell(depth, width)
    if args.tiles > width:
        raise UserError(f"--tiles {args.tiles} is more than the cell's width ({width} groups): a tile is at least one group")
    subnet = slice_subnet(model, depth, width)
    metadata = cell_metadata(run, depth, width)
    if args.quantize:
        return export_int8(args, run, subnet, metadata, cell_name(depth, width))
    facts = export_subnet(subnet, args.out, args.format, run.record.data.image_shape, metadata, tiles=args.tiles)

    def for_people() -> None:
        print(f"wrote {facts['path']} ({cell_name(depth, width)}); load it with {facts['load_with']}")
        if "max_abs_diff_vs_torch" in facts:
            print(f"onnxruntime vs torch on 8 random inputs: largest difference {facts['max_abs_diff_vs_torch']:.3g}")
    print_result(args, {"cell": cell_name(depth, width), "format": args.format, **facts, "metadata": metadata}, for_people)
    return 0


def stage(text: str) -> None:
    """A long step's start, one line on stderr (a log shows where the time goes)."""
    print(f"dnnet: {text}", file=sys.stderr, flush=True)


def export_int8(args: argparse.Namespace, run: TrainedRun, subnet, metadata: dict[str, str], cell: str) -> int:
    """The float cell to a scratch file, its int8 version to --out, and both measured on the run's test split."""
    stage(f"int8 export of {cell}: reading calibration and test images ...")  # the stages take tens of seconds
    calibration = calibration_images(run, args.calibration_images)
    test = run.data().test
    test_images, test_labels = run.normalize(test.images).numpy(), test.labels.numpy()
    with tempfile.TemporaryDirectory() as scratch:
        float_path = Path(scratch) / "float.onnx"
        export_subnet(subnet, float_path, "onnx", run.record.data.image_shape, metadata)
        stage(f"int8 export of {cell}: quantizing ...")
        quantize_int8(float_path, args.out, calibration, metadata)
        stage(f"int8 export of {cell}: measuring test accuracy and latency, float and int8 ...")
        accuracy = {"float": onnx_accuracy(float_path, test_images, test_labels), "int8": onnx_accuracy(args.out, test_images, test_labels)}
        float_ms, int8_ms = onnx_latency_ms([float_path, args.out], test_images[:1])
    facts = {"cell": cell, "format": "onnx", "quantize": "int8", "path": str(args.out), "calibration_images": len(calibration),
             "test_accuracy": accuracy, "latency_ms_batch_1_one_thread": {"float": float_ms, "int8": int8_ms}, "metadata": metadata}
    print_result(args, facts, lambda: print(
        f"wrote {args.out} ({cell}, int8, calibrated on {len(calibration)} training images); test accuracy {100 * accuracy['int8']:.2f}% "
        f"(float {100 * accuracy['float']:.2f}%); {int8_ms:.3f} ms per image at batch 1 (float {float_ms:.3f} ms)"))
    return 0
