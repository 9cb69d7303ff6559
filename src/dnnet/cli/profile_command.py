"""`dnnet profile`: the resources of every cell of a preset, as a CSV, JSON and heatmaps."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from dnnet.accounting import CellResources, grid_resources
from dnnet.cli.argument_types import DeprecatedAlias, cell_argument, image_size_argument, macs_budget_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import CELL_SPELLING, DEFAULT_PRESET, cell_name
from dnnet.models import create_model, list_models
from dnnet.reporting import plot_grid_heatmap
from dnnet.selection import cells_within, deepest_exit_at_width, widest_per_depth
from dnnet.utils.amounts import EXAMPLE_BUDGET, format_count
from dnnet.utils.provenance import provenance

# (field, title, colorbar label, divisor): the three panels of the paper's Figure 3, then peak memory
HEATMAPS = [
    ("macs", "MACs needed", "million MACs", 1e6),
    ("params", "parameters", "thousand parameters", 1e3),
    ("largest_feature_map_values", "largest feature map", "thousand values", 1e3),
    ("peak_act_bytes", "peak activation memory (batch 1, float32)", "KiB", 1024),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=DEFAULT_PRESET, help=f"one of: {', '.join(list_models())} (default {DEFAULT_PRESET})")
    parser.add_argument("--out", type=Path, default=None,
                        help="a folder for resources.csv, profile.json and the heatmaps (default: print only, write nothing)")
    parser.add_argument("--macs", "--macs-budget", dest="macs", type=macs_budget_argument, default=EXAMPLE_BUDGET,
                        action=DeprecatedAlias, deprecated="--macs-budget",
                        help=f"MAC budget to analyse, e.g. 24M (the paper's) or a share of the full network's (default "
                             f"{EXAMPLE_BUDGET}, as demo and report)".replace("%", "%%"))
    parser.add_argument("--image-size", type=image_size_argument, default=None, metavar="N",
                        help="square image side the resources are counted at (default: the preset's, 32 or 224)")
    parser.add_argument("--cells", nargs="*", type=cell_argument, default=[], metavar="DxW",
                        help=f"cells to report against the budget, {CELL_SPELLING}")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    with torch.device("meta"):  # the architecture only: no memory for weights
        config = create_model(args.preset, **({} if args.image_size is None else {"image_size": args.image_size})).config
    cells = args.cells
    for depth, width in cells:
        config.check_cell(depth, width)
    out = args.out
    grid = grid_resources(config)
    macs_budget = args.macs.macs(grid[-1].macs)
    summary = budget_summary(grid, config.groups, macs_budget)
    record = {"preset": args.preset, "config": config.to_dict(), "budget": summary, "provenance": provenance()}
    if out is not None:  # a command that reads writes only where it is told to
        write_profile(out, args.preset, grid, record, config.num_exits, config.groups, macs_budget)
    asked = [grid[(depth - 1) * config.groups + (width - 1)] for depth, width in cells]

    def for_people() -> None:
        print_summary(args.preset, config.causal, grid, summary, out)
        for cell in asked:
            verdict = "fits" if cell.macs <= macs_budget else "does not fit"
            print(f"  {cell_name(cell.depth, cell.width)}: {format_count(cell.macs)} MACs, {format_count(cell.params)} params, "
                  f"largest feature map {format_count(cell.largest_feature_map_values)} values: {verdict} under "
                  f"{format_count(macs_budget)} MACs")
    result = {**record, "cells": {cell_name(c.depth, c.width): {**c.to_dict(), "fits": c.macs <= macs_budget} for c in asked},
              "wrote": None if out is None else str(out)}
    print_result(args, result, for_people)
    return 0


def write_profile(out: Path, preset: str, grid: list[CellResources], record: dict, depths: int, widths: int,
                  macs_budget: float) -> None:
    """resources.csv, profile.json and a heatmap per resource, into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_grid_csv(grid, out / "resources.csv")
    (out / "profile.json").write_text(json.dumps(record, indent=2) + "\n")
    for field, title, label, divisor in HEATMAPS:
        values = np.array([getattr(c, field) for c in grid], dtype=float).reshape(depths, widths) / divisor
        budget = macs_budget / divisor if field == "macs" else None
        plot_grid_heatmap(values, f"{preset}: {title}", label, out / f"{field}.png", budget=budget)


def write_grid_csv(grid: list[CellResources], path: Path) -> None:
    fields = [f.name for f in dataclasses.fields(CellResources)]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(cell.to_dict() for cell in grid)


def budget_summary(grid: list[CellResources], groups: int, macs_budget: float) -> dict:
    """Feasible cells under the MAC budget: count, deepest full-width exit, widest width per depth."""
    limits = {"macs": macs_budget}
    deepest = deepest_exit_at_width(grid, groups, limits)
    return {
        "macs_budget": macs_budget,
        "cells": len(grid),
        "feasible_cells": len(cells_within(grid, limits)),
        "deepest_full_width": None if deepest is None else deepest.to_dict(),
        "widest_per_depth": {d: c.to_dict() for d, c in sorted(widest_per_depth(grid, limits).items())},
    }


def print_summary(preset: str, causal: bool, grid: list[CellResources], summary: dict, out: Path | None) -> None:
    full = grid[-1]
    budget = summary["macs_budget"]
    print(f"{preset}: {len(grid)} cells; full network {format_count(full.macs)} MACs needed "
          f"({format_count(full.dense_macs)} dense), {format_count(full.params)} params")
    print(f"under {format_count(budget)} MACs: {summary['feasible_cells']} of {summary['cells']} cells fit")
    deepest = summary["deepest_full_width"]
    if deepest is None:
        print("  no exit fits at full width")
    else:
        print(f"  deepest exit at full width: {cell_name(deepest['depth'], deepest['width'])} ({format_count(deepest['macs'])} MACs)")
    widest = summary["widest_per_depth"]
    if not causal:
        print("  (dense network: its narrower widths are brute-force slices, not trained sub-networks)")
    else:
        print("  widest width that fits, per depth: "
              + ", ".join(f"{cell_name(d, c['width'])} ({format_count(c['macs'])})" for d, c in widest.items()))
    if out is not None:
        print(f"wrote {out}/resources.csv, profile.json and heatmaps ({', '.join(h[0] + '.png' for h in HEATMAPS)})")
