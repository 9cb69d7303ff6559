"""`dnnet export`: one cell of a trained run as a standalone ONNX, torch.export or safetensors file."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.cli.argument_types import cell_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import CELL_SPELLING, cell_name
from dnnet.deploy import FORMATS, export_subnet
from dnnet.deploy.run_metadata import cell_metadata
from dnnet.errors import UserError
from dnnet.slicing import slice_subnet
from dnnet.train.run_directory import load_trained_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run")
    parser.add_argument("--cell", type=cell_argument, required=True, metavar="DxW",
                        help=f"the cell to export, {CELL_SPELLING}; exit 1 is after the stem")
    parser.add_argument("--format", choices=FORMATS, required=True, help="onnx (checked against onnxruntime), pt2 "
                        "(torch.export) or safetensors (weights)")
    parser.add_argument("--out", type=Path, required=True, help="the file to write")
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
    model, record = load_trained_model(args.run_dir)
    depth, width = args.cell
    model.config.check_cell(depth, width)
    subnet = slice_subnet(model, depth, width)
    metadata = cell_metadata(args.run_dir, record, model.config, depth, width)
    facts = export_subnet(subnet, args.out, args.format, tuple(record["data"]["image_shape"]), metadata)
    def for_people() -> None:
        print(f"wrote {facts['path']} ({cell_name(depth, width)}); load it with {facts['load_with']}")
        if "max_abs_diff_vs_torch" in facts:
            print(f"onnxruntime vs torch on 8 random inputs: largest difference {facts['max_abs_diff_vs_torch']:.3g}")
    print_result(args, {"cell": cell_name(depth, width), "format": args.format, **facts, "metadata": metadata}, for_people)
    return 0
