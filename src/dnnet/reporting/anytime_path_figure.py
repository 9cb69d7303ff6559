"""The figure of an anytime path: on one log-MAC axis, the accuracy each walk offers at every budget (the latest cell
it finished), against the best single cell under each budget (the static Pareto front, the bound for any walk); beside
it, the grid's heatmap with the walks drawn on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from dnnet.anytime.path_area import LogMacAxis, front_curve, path_area, step_curve_area, walk_costs
from dnnet.config import NetConfig
from dnnet.reporting.heatmaps import draw_grid_heatmap


@dataclass(frozen=True)
class Walk:
    """One walk to draw: the network it walks, its cells, and the grid its accuracies are read from (test)."""

    label: str
    config: NetConfig
    cells: Sequence[tuple[int, int]]
    accuracy: torch.Tensor
    on_heatmap: bool = True  # drawn over the first walk's grid (False for another network, e.g. a baseline)


def plot_anytime_paths(walks: Sequence[Walk], choose_with: torch.Tensor, axis: LogMacAxis, path: Path, title: str) -> Path:
    """Writes the figure; the front is the first walk's network's, its cells chosen on `choose_with` (validation) and
    read on the first walk's grid. Each label gets the walk's `area` over `axis`."""
    first = walks[0]
    fig = Figure(figsize=(12.5, 5.2))
    curves, grid = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    front_macs, front_accuracy = front_curve(first.config, choose_with, first.accuracy)
    front_area = step_curve_area(front_macs, front_accuracy, axis)
    _draw_steps(curves, front_macs, front_accuracy, axis, f"best single cell per budget (area {100 * front_area:.1f}%)",
                color="black", linestyle="--")
    for index, walk in enumerate(walks):
        area = path_area(walk.config, walk.accuracy, walk.cells, axis)
        _draw_steps(curves, walk_costs(walk.config, walk.cells), [float(walk.accuracy[d - 1, w - 1]) for d, w in walk.cells],
                    axis, f"{walk.label} (area {100 * area:.1f}%)", color=f"C{index}")
    curves.set_xscale("log")
    curves.set_xlim(axis.low, axis.high)
    curves.set_xlabel("MACs spent so far (log scale)")
    curves.set_ylabel("accuracy of the latest finished cell (%)")
    curves.set_title("answers along each walk; area: mean over the log-MAC axis", fontsize=10)
    curves.grid(alpha=0.3, which="both")
    curves.legend(fontsize=8, loc="upper left")
    values = 100 * first.accuracy.numpy()
    draw_grid_heatmap(fig, grid, values, "the walks on the grid, in the colours of the left panel (accuracy, %)", "accuracy (%)",
                      annotate_format=".0f" if values.size <= 400 else None)
    for index, walk in enumerate(walks):
        if walk.on_heatmap:
            widths, depths = [w - 1 for _, w in walk.cells], [d - 1 for d, _ in walk.cells]
            grid.plot(widths, depths, color=f"C{index}", lw=2.0, marker="o", ms=3, alpha=0.85)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    return Path(path)


def _draw_steps(ax, macs: Sequence[float], accuracy: Sequence[float], axis: LogMacAxis, label: str, **style) -> None:
    """A step curve held from each point to the next, and the last to the axis' end."""
    xs = [*macs, axis.high]
    ys = [100 * a for a in accuracy]
    ax.step(xs, [*ys, ys[-1]], where="post", label=label, lw=1.8, **style)
