"""`dnnet bundle`: a run's Pareto cells as ONNX files with a manifest and a selector that needs no torch."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.deploy.bundle import write_bundle
from dnnet.errors import UserError
from dnnet.selection import RESOURCES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run")
    parser.add_argument("--out", type=Path, required=True, help="the bundle's folder (created; must be empty if it exists)")
    parser.add_argument("--resources", nargs="+", default=["macs", "memory"], choices=sorted(RESOURCES),
                        help="the resources of the Pareto front, beside validation accuracy (default: macs memory)")


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise UserError(f"--out {args.out} exists and is not an empty folder; a bundle goes into a new one")
    manifest = write_bundle(args.run_dir, args.out, tuple(RESOURCES[name][0] for name in args.resources))
    print(f"wrote {len(manifest['cells'])} cells, manifest.json and select_cell.py into {args.out}")
    print(f"run anywhere with onnxruntime and numpy: python {args.out}/select_cell.py {args.out} --macs N --images X.npy")
    return 0
