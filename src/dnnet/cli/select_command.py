"""`dnnet select`: the most accurate cell (on validation) within several budgets at once."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from dnnet.cli.argument_types import count_argument, macs_budget_argument, milliseconds_argument, size_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import cell_name
from dnnet.deploy.latency import RUNTIMES, read_latency
from dnnet.errors import NoCellFits
from dnnet.runs import open_trained
from dnnet.selection import RESOURCES, Budget, cells_within, choose, explain_infeasible, offered_cells, pareto_front
from dnnet.utils.amounts import format_count, format_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN",
                        help="a trained run, a weights folder of `dnnet pretrained`, or a preset with shipped weights (cells are "
                             "chosen on its validation grid)")
    parser.add_argument("--macs", type=macs_budget_argument, default=None,
                        help="most multiply-accumulates per image, e.g. 24M, or a share of the full network's, e.g. 25%%")
    parser.add_argument("--params", type=count_argument, default=None, help="most parameters, e.g. 150K")
    parser.add_argument("--memory", type=size_argument, default=None, help="most peak activation memory, e.g. 64KiB")
    parser.add_argument("--feature-map", type=count_argument, default=None, help="most values in the largest feature map, e.g. 4K")
    parser.add_argument("--latency-ms", type=milliseconds_argument, default=None, help="most measured milliseconds (needs `dnnet latency`)")
    parser.add_argument("--runtime", choices=RUNTIMES, default="eager", help="whose latency table --latency-ms reads")
    parser.add_argument("--pareto", action="store_true",
                        help="print the Pareto front of accuracy against the budgeted resources (MACs if none), within the budgets")
    add_json_flag(parser)


def budget_from_args(args: argparse.Namespace, full_macs: float) -> Budget:
    macs = None if args.macs is None else args.macs.macs(full_macs)
    given = {"macs": macs, "params": args.params, "memory": args.memory, "feature_map": args.feature_map}
    return Budget({RESOURCES[name][0]: limit for name, limit in given.items() if limit is not None})


def run(args: argparse.Namespace) -> int:
    run = open_trained(args.run_dir)
    grid = offered_cells(run.record.net_config)
    accuracy = run.grid("val")  # never the test split: it is for reporting only
    budget = budget_from_args(args, grid[-1].macs)
    latency = None
    if args.latency_ms is not None:
        latency = read_latency(args.run_dir, args.runtime)
        grid = [c for c in grid if latency[c.depth - 1, c.width - 1] <= args.latency_ms] or _no_cell_in_time(args, latency)
    if args.pareto:
        fields = list(budget.limits) or ["macs"]
        within = cells_within(grid, budget.limits)
        if not within:
            raise NoCellFits(explain_infeasible(grid, budget))
        front = pareto_front(accuracy, within, fields)
        rows = [_cell_record(c, accuracy, latency) for c in front]
        print_result(args, {"pareto": rows}, lambda: print("\n".join(_line(r) for r in rows)))
        return 0
    choice = choose(accuracy, grid, budget)
    answer = _cell_record(choice.cell, accuracy, latency)
    print_result(args, answer, lambda: print(_line(answer)))
    return 0


def _no_cell_in_time(args: argparse.Namespace, latency) -> list:
    fastest = latency.min().item()
    raise NoCellFits(f"no cell fits: latency_ms <= {args.latency_ms} rules out every cell (the fastest takes {fastest:.3f} ms "
                     f"on the machine that measured it)")


def _cell_record(cell, accuracy, latency) -> dict:
    record = {"cell": cell_name(cell.depth, cell.width), "depth": cell.depth, "width": cell.width,
              "val_accuracy": round(accuracy[cell.depth - 1, cell.width - 1].item(), 6),
              **{k: v for k, v in dataclasses.asdict(cell).items() if k not in ("depth", "width")}}
    if latency is not None:
        record["latency_ms"] = round(latency[cell.depth - 1, cell.width - 1].item(), 4)
    return record


def _line(r: dict) -> str:
    text = (f"{cell_name(r['depth'], r['width'])}: val accuracy {100 * r['val_accuracy']:.2f}%, {format_count(r['macs'])} MACs, "
            f"{format_count(r['params'])} params, peak memory {format_size(r['peak_act_bytes'])}, "
            f"largest feature map {format_count(r['largest_feature_map_values'])} values")
    return text + (f", {r['latency_ms']:.3f} ms" if "latency_ms" in r else "")
