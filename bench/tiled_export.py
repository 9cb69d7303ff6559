"""Dense against tiled ONNX cells on onnxruntime: does skipping the causal zero blocks make an exported cell faster?

    python bench/tiled_export.py --cells 10x8 10x4 10x2 5x8 --tiles 1 2 4 8 --batches 1 32 --out docs/tiled_export_cpu.json

Each cell of `dnnet_resnet20_g8` (random weights, batch norm randomised: time does not depend on their values) is
exported with batch norm folded, densely (tiles 1) and with its convolutions in each number of tiles
(`dnnet export --tiles`); every file is timed at each batch in interleaved rounds (median; one onnxruntime thread),
and its executed MACs counted by torch's FLOP counter on the module it was exported from.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from dnnet import create_model
from dnnet.config import parse_cell
from dnnet.deploy.export import write_onnx
from dnnet.deploy.int8_cells import onnx_latency_ms
from dnnet.deploy.tiled_convolutions import tile_convolutions
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.utils.provenance import provenance


def randomized(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="dnnet_resnet20_g8")
    parser.add_argument("--cells", nargs="+", default=["10x8", "10x4", "10x2", "5x8"])
    parser.add_argument("--tiles", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = randomized(create_model(args.preset))
    size = model.config.image_size
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for cell in args.cells:
            depth, width = parse_cell(cell)
            subnet = slice_subnet(model, depth, width)
            tile_counts = sorted({1, *(min(t, width) for t in args.tiles)})  # the dense cell first: the ratios' base
            paths, macs = [], []
            for tiles in tile_counts:
                path = Path(scratch) / f"{cell}_{tiles}.onnx"
                write_onnx(subnet, path, torch.randn(2, 3, size, size), dynamo=False, tiles=tiles)
                paths.append(path)
                module = fold_batchnorm(subnet) if tiles == 1 else tile_convolutions(fold_batchnorm(subnet), tiles)
                with FlopCounterMode(display=False) as counter, torch.no_grad():
                    module(torch.randn(1, 3, size, size))
                macs.append(counter.get_total_flops() // 2)
            for batch in args.batches:
                images = np.random.default_rng(0).standard_normal((batch, 3, size, size), dtype=np.float32)
                milliseconds = onnx_latency_ms(paths, images, repeats=args.repeats)
                for tiles, executed, ms in zip(tile_counts, macs, milliseconds):
                    rows.append({"cell": cell, "tiles": tiles, "batch": batch, "executed_macs_per_image": executed,
                                 "ms": round(ms, 4), "ms_over_dense": round(ms / milliseconds[0], 3)})
                    print(rows[-1], flush=True)
    record = {"command": "python bench/tiled_export.py " + " ".join(
                  [f"--preset {args.preset}", "--cells", *args.cells, "--tiles", *map(str, args.tiles), "--batches",
                   *map(str, args.batches), f"--repeats {args.repeats}", f"--out {args.out}"]),
              "threads": 1, "rows": rows, "provenance": provenance()}
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
