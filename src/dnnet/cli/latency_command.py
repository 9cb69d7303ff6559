"""`dnnet latency`: time every extracted cell of a run on this machine and store the table in the run."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.accounting import CellResources, cell_resources
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.deploy.int8_cells import calibration_images
from dnnet.deploy.latency import INT8, RUNTIMES, measure_latency, write_latency
from dnnet.errors import UserError
from dnnet.runs import TrainedRun
from dnnet.utils.device_choice import physical_memory_bytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run; the table is written into it")
    parser.add_argument("--runtime", choices=RUNTIMES, default="eager", help="what runs each extracted cell (default eager)")
    parser.add_argument("--batch", type=int, default=1, help="images per timed call (default 1)")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per cell, interleaved over cells; the median is kept")
    parser.add_argument("--calibration-images", type=int, default=256,
                        help=f"with --runtime {INT8}: training images that calibrate each cell's quantization")
    parser.add_argument("--data-dir", default=None, help=f"with --runtime {INT8}: where the run's named data set lives, if moved")
    parser.add_argument("--cache-dir", type=Path, default=None, help="decoded-image cache (default ~/.cache/dnnet)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    if args.batch < 1 or args.repeats < 1 or args.calibration_images < 1:
        raise UserError("--batch, --repeats and --calibration-images must be at least 1")
    run = TrainedRun.open(args.run_dir, args.data_dir, args.cache_dir)
    check_batch_fits_memory(args.batch, cell_resources(run.record.net_config, *run.record.net_config.grid_shape))
    with run.writing():  # the table is written into the run: not while it trains
        return measure_run(args, run)


def measure_run(args: argparse.Namespace, run: TrainedRun) -> int:
    """Measures every cell of `run` and writes the table into it."""
    model, image_shape = run.model, run.record.data.image_shape
    calibration = calibration_images(run, args.calibration_images) if args.runtime == INT8 else None
    table = measure_latency(model, image_shape, args.batch, args.repeats, threads=args.threads, runtime=args.runtime,
                            calibration=calibration)
    settings = {"batch": args.batch, "threads": args.threads, "repeats": args.repeats, "image_shape": list(image_shape),
                **({"calibration_images": len(calibration)} if calibration is not None else {})}
    path = write_latency(args.run_dir, args.runtime, table, settings)
    result = {"runtime": args.runtime, **settings, "latency_ms": [[round(v, 4) for v in row] for row in table.tolist()],
              "fastest_ms": round(table.min().item(), 4), "full_network_ms": round(table[-1, -1].item(), 4), "wrote": str(path)}
    print_result(args, result, lambda: print(
        f"latency of {table.numel()} cells ({args.runtime}, batch {args.batch}, {args.threads} thread(s)): "
        f"fastest cell {table.min():.3f} ms, full network {table[-1, -1]:.3f} ms; wrote {path}"))
    return 0


def check_batch_fits_memory(batch: int, full: CellResources) -> None:
    """Refuses a batch whose activations alone would take more than half of this machine's memory (an allocator
    traceback otherwise, or a machine that swaps)."""
    physical = physical_memory_bytes()
    needed = batch * full.peak_act_bytes
    if physical and needed > physical / 2:
        raise UserError(f"--batch {batch} needs about {needed / 2**30:,.1f} GiB of activations for the full network, more "
                        f"than half of this machine's {physical / 2**30:,.1f} GiB; use a smaller --batch")
