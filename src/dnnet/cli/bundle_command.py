"""`dnnet bundle`: a run's Pareto cells as ONNX files with a manifest and a selector that needs no torch."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.deploy.bundle import Int8Data, write_bundle
from dnnet.deploy.int8_cells import calibration_images
from dnnet.errors import UserError
from dnnet.runs import open_trained
from dnnet.selection import RESOURCES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN",
                        help="a trained run, a weights folder of `dnnet pretrained`, or a preset with shipped weights")
    parser.add_argument("--out", type=Path, required=True, help="the bundle's folder (created; must be empty if it exists)")
    parser.add_argument("--resources", nargs="+", default=["macs", "memory"], choices=sorted(RESOURCES),
                        help="the resources of the Pareto front, beside validation accuracy (default: macs memory)")
    parser.add_argument("--int8", action="store_true",
                        help="quantize every cell to int8 (calibrated on the run's training images; accuracy measured as int8)")
    parser.add_argument("--calibration-images", type=int, default=256, help="with --int8: training images that calibrate each cell")
    parser.add_argument("--data-dir", default=None, help="with --int8: where the run's named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if args.calibration_images < 1:  # checked before a data set is loaded
        raise UserError(f"--calibration-images must be at least 1, got {args.calibration_images}")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise UserError(f"--out {args.out} exists and is not an empty folder; a bundle goes into a new one")
    manifest = write_bundle(args.run_dir, args.out, tuple(RESOURCES[name][0] for name in args.resources),
                            int8_data(args) if args.int8 else None)
    select_with = f"python {args.out}/select_cell.py {args.out} --macs N --images X.npy"
    print_result(args, {"out": str(args.out), "cells": [cell["cell"] for cell in manifest["cells"]], "select_with": select_with},
                 lambda: print(f"wrote {len(manifest['cells'])} cells, manifest.json and select_cell.py into {args.out}\n"
                               f"run anywhere with onnxruntime and numpy: {select_with}"))
    return 0


def int8_data(args: argparse.Namespace) -> Int8Data:
    """Calibration images from the run's training split and its validation split, normalised as the run was."""
    run = open_trained(args.run_dir, args.data_dir, args.cache_dir)
    val = run.data().val
    return Int8Data(calibration_images(run, args.calibration_images), run.normalize(val.images).numpy(), val.labels.numpy())
