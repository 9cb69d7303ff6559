"""What int8 costs per cell: `dnnet export --quantize int8` for several cells of a run, collected in one JSON file
(test accuracy of the int8 and float cells, batch-1 latency of both on this machine, one thread).

    python bench/int8_cost.py runs/experiments/cpu/runs/dnnet_s0 --cells 1x1 3x2 5x4 10x4 10x8 --out docs/int8_cpu.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

from dnnet.cli.main import main as dnnet
from dnnet.utils.provenance import provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--cells", nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for cell in args.cells:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                code = dnnet(["export", str(args.run), "--cell", cell, "--format", "onnx", "--quantize", "int8",
                              "--out", f"{scratch}/{cell}.onnx", "--json"])
            if code != 0:
                raise SystemExit(f"export of {cell} failed: {printed.getvalue()}")
            facts = json.loads(printed.getvalue())
            rows.append({key: facts[key] for key in ("cell", "calibration_images", "test_accuracy", "latency_ms_batch_1_one_thread")})
            print(rows[-1], flush=True)
    record = {"command": f"python bench/int8_cost.py {args.run} --cells {' '.join(args.cells)} --out {args.out}",
              "run": str(args.run), "cells": rows, "provenance": provenance()}
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
