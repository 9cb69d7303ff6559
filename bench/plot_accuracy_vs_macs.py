"""Test accuracy against MACs of committed runs, one line per kind of training, the mean over its seeds; no model or
data needed (the runs' accuracy_test.json and config.json).

    python bench/plot_accuracy_vs_macs.py --out docs/cpu_e30/accuracy_vs_macs \\
        "DNNet, widths at the last exit:widths:docs/cpu_e30/dnnet_lastexit_e30_s0,docs/cpu_e30/dnnet_lastexit_e30_s1" \\
        "trained alone:full:docs/cpu_e30/plain_g1_e30_s0,docs/cpu_e30/plain_g2_e30_s0,docs/cpu_e30/plain_e30_s0"

Each later series' points also carry the first series read at their MACs on a line in log-MACs between its two
nearest points (`first_series_here`, none outside its range) and the difference (`this_minus_first`).

A series is LABEL:AXIS:RUNS. AXIS `widths` reads every width at the last exit, `exits` every exit at the full width,
`full` only the full network (one point per run: networks trained alone at several sizes); RUNS is a comma-separated
list of run folders, and runs of one network (`widths`, `exits`) are its seeds, averaged.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

from dnnet.accounting import cell_resources  # noqa: E402
from dnnet.evaluation import read_accuracy_grid  # noqa: E402
from dnnet.runs import RunRecord  # noqa: E402

AXES = ("widths", "exits", "full")


def run_points(run: Path, axis: str) -> list[tuple[str, int, float]]:
    """(cell, MACs, test accuracy %) along `axis` of one run."""
    config = RunRecord.read(run).net_config
    test = read_accuracy_grid(run, "test")
    last_exit, full_width = config.num_exits, config.groups
    cells = {"widths": [(last_exit, w) for w in range(1, full_width + 1)],
             "exits": [(d, full_width) for d in range(1, last_exit + 1)],
             "full": [(last_exit, full_width)]}[axis]
    return [(f"{d}x{w}", cell_resources(config, d, w).macs, round(100 * test[d - 1, w - 1].item(), 2)) for d, w in cells]


def series_points(axis: str, runs: list[Path]) -> list[dict]:
    """The series' points: for `full`, one per run; otherwise per cell the mean (and each value) over the runs."""
    if axis == "full":
        return [{"cell": cell, "macs": macs, "test": acc, "runs": [run.name]}
                for run in runs for cell, macs, acc in run_points(run, axis)]
    per_run = [run_points(run, axis) for run in runs]
    points = []
    for cells in zip(*per_run, strict=True):
        if len({(cell, macs) for cell, macs, _ in cells}) != 1:
            raise SystemExit(f"the runs of one series must be one network: {[run.name for run in runs]}")
        values = [acc for _, _, acc in cells]
        points.append({"cell": cells[0][0], "macs": cells[0][1], "test": round(statistics.mean(values), 2),
                       "each_run": values, "runs": [run.name for run in runs]})
    return points


def read_on_log_macs(points: list[dict], macs: float) -> float | None:
    """The series `points` (sorted by MACs) at `macs`, on a straight line in log-MACs between its two nearest points;
    None outside the MACs they span."""
    for low, high in zip(points, points[1:]):
        if low["macs"] <= macs <= high["macs"]:
            share = math.log(macs / low["macs"]) / math.log(high["macs"] / low["macs"]) if high["macs"] > low["macs"] else 0.0
            return round(low["test"] + share * (high["test"] - low["test"]), 2)
    return points[0]["test"] if len(points) == 1 and points[0]["macs"] == macs else None


def parse_series(spec: str) -> tuple[str, str, list[Path]]:
    label, axis, runs = spec.rsplit(":", 2)
    if axis not in AXES:
        raise SystemExit(f"axis {axis!r} in {spec!r}: one of {', '.join(AXES)}")
    return label, axis, [Path(run) for run in runs.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("series", nargs="+", help="LABEL:AXIS:RUN[,RUN...]")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.png and OUT.json")
    parser.add_argument("--title", default="Test accuracy against MACs (mean over seeds)")
    args = parser.parse_args()
    record = {"command": "python bench/plot_accuracy_vs_macs.py --out " + str(args.out) + " "
                         + " ".join(f'"{s}"' for s in args.series), "series": []}
    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    for label, axis, runs in map(parse_series, args.series):
        points = series_points(axis, runs)
        if record["series"]:  # against the first series, at this series' MACs
            first = sorted(record["series"][0]["points"], key=lambda p: p["macs"])
            for point in points:
                point["first_series_here"] = read_on_log_macs(first, point["macs"])
                if point["first_series_here"] is not None:
                    point["this_minus_first"] = round(point["test"] - point["first_series_here"], 2)
        record["series"].append({"label": label, "axis": axis, "points": points})
        seeds = "" if axis == "full" else f" ({len(runs)} seed{'s' * (len(runs) > 1)})"
        axes.plot([p["macs"] for p in points], [p["test"] for p in points], "o" if axis == "full" else ".-",
                  label=label + seeds, markersize=7 if axis == "full" else 5)
    axes.set_xscale("log")
    axes.xaxis.set_major_locator(FixedLocator([1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8]))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda macs, _: f"{macs / 1e6:g}M"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("MACs per image")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(args.title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out.with_suffix(".png"), dpi=120)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
