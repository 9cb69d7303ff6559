"""The figure of `dnnet budgeted`: test accuracy against the average MACs actually spent, per network and method."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

STYLES = {"greedy": "-", "geometric": "--"}


def plot_budgeted(curves: dict[str, list[dict]], path: Path, title: str) -> Path:
    """`curves`: network label -> the rows of `budget_sweep`; one line per network and threshold method."""
    fig = Figure(figsize=(7.5, 5.0))
    ax = fig.subplots()
    for index, (label, rows) in enumerate(curves.items()):
        for method, style in STYLES.items():
            points = sorted((r["test_mean_macs"] / 1e6, 100 * r["test_accuracy"]) for r in rows if r["method"] == method)
            if points:
                ax.plot(*zip(*points), style, marker="o", ms=3, color=f"C{index}", label=f"{label}, {method} thresholds")
    ax.set_xscale("log")
    ax.set_xlabel("average MACs per test image (millions, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    return path
