"""The anytime path's `area` on trained grids: each rule's path (chosen on validation) against the static Pareto front
(the best single cell under each budget, chosen on validation), read on validation and test; and against a depth-only
network's exits on an axis both networks reach. Reads only the committed accuracy grids; writes one JSON.

    python bench/anytime_path_areas.py --dnnet docs/cpu_e30/dnnet_lastexit_e30_s0 docs/cpu_e30/dnnet_lastexit_e30_s1 \
        --depth-only docs/cpu_e30/anytime_e30_s0 docs/cpu_e30/anytime_e30_s1 --out docs/anytime_path/areas_e30.json

`--depth-only` runs pair with `--dnnet` runs in order (the same seed). Areas are mean accuracies (%) over log(MACs):
- `dnnet_axis`: from the DNNet's 1x1 to its full network (the library's default axis);
- `shared_axis`: from the dearer of the two networks' cheapest cells to the cheaper full network, where both answer;
and at a few budgets, the accuracy of the latest cell each walk finished within them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnnet.anytime.path_area import LogMacAxis, default_axis, front_area, path_area, walk_costs
from dnnet.anytime.path_choice import PATH_RULES, choose_path
from dnnet.config import NetConfig
from dnnet.evaluation import read_accuracy_grid
from dnnet.runs import RunRecord
from dnnet.utils.provenance import provenance

BUDGETS = (0.5e6, 1e6, 1.5e6, 2.2e6, 3.6e6)  # the budgets the table reads


def read_run(run: Path) -> tuple[NetConfig, dict]:
    config = RunRecord.read(run).net_config
    return config, {split: read_accuracy_grid(run, split, config.grid_shape) for split in ("val", "test")}


def at_budget(config: NetConfig, grid, cells, budget: float) -> float | None:
    """Accuracy (%) of the latest cell of the walk finished within `budget` MACs (None before the first)."""
    reached = [cell for cell, cost in zip(cells, walk_costs(config, cells)) if cost <= budget]
    return None if not reached else round(100 * float(grid[reached[-1].depth - 1, reached[-1].width - 1]), 2)


def summarize(dnnet_run: Path, depth_only_run: Path | None) -> dict:
    config, grids = read_run(dnnet_run)
    axes = {"dnnet_axis": default_axis(config)}
    walks = {rule: choose_path(config, grids["val"], rule).cells for rule in PATH_RULES}
    baseline = None
    if depth_only_run is not None:
        base_config, base_grids = read_run(depth_only_run)
        base_cells = choose_path(base_config, base_grids["val"]).cells
        low = max(default_axis(config).low, default_axis(base_config).low)
        axes["shared_axis"] = LogMacAxis(low, min(default_axis(config).high, default_axis(base_config).high))
        baseline = (base_config, base_grids, base_cells)
    result = {"run": str(dnnet_run), "axes": {name: [axis.low, axis.high] for name, axis in axes.items()},
              "paths": {rule: [f"{d}x{w}" for d, w in cells] for rule, cells in walks.items()}, "area": {}, "at_budgets": {}}
    for axis_name, axis in axes.items():
        table = {}
        for split in ("val", "test"):
            table[split] = {f"{rule} path": round(100 * path_area(config, grids[split], cells, axis), 2) for rule, cells in walks.items()}
            table[split]["static front"] = round(100 * front_area(config, grids["val"], grids[split], axis), 2)
            if baseline is not None:
                base_config, base_grids, base_cells = baseline
                table[split]["depth-only exits"] = round(100 * path_area(base_config, base_grids[split], base_cells, axis), 2)
        result["area"][axis_name] = table
    result["at_budgets"] = {f"{rule} path": {f"{b / 1e6:g}M": at_budget(config, grids["test"], cells, b) for b in BUDGETS}
                            for rule, cells in walks.items()}
    if baseline is not None:
        base_config, base_grids, base_cells = baseline
        result["depth_only_run"] = str(depth_only_run)
        result["at_budgets"]["depth-only exits"] = {f"{b / 1e6:g}M": at_budget(base_config, base_grids["test"], base_cells, b)
                                                    for b in BUDGETS}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dnnet", type=Path, nargs="+", required=True, help="DNNet runs with accuracy_val/test.json")
    parser.add_argument("--depth-only", type=Path, nargs="*", default=[], help="depth-only runs, paired with --dnnet in order")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    pairs = [(run, args.depth_only[i] if i < len(args.depth_only) else None) for i, run in enumerate(args.dnnet)]
    runs = [summarize(run, base) for run, base in pairs]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"command": "python bench/anytime_path_areas.py " + " ".join(
        ["--dnnet", *map(str, args.dnnet)] + (["--depth-only", *map(str, args.depth_only)] if args.depth_only else [])
        + ["--out", str(args.out)]), "runs": runs, "provenance": provenance()}
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for run in runs:
        test = run["area"]["dnnet_axis"]["test"]
        print(run["run"], "test area (DNNet axis):", ", ".join(f"{k} {v}" for k, v in test.items()))
        if "shared_axis" in run["area"]:
            print("   shared axis:", ", ".join(f"{k} {v}" for k, v in run["area"]["shared_axis"]["test"].items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
