"""Heatmaps of a per-cell quantity over depth x width, like the paper's Figure 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dnnet.errors import UserError
from dnnet.evaluation import read_accuracy_grid
from dnnet.reporting.run_caption import run_caption


def plot_grid_heatmap(
    values: np.ndarray,
    title: str,
    colorbar_label: str,
    path: str | Path,
    budget: float | None = None,
    annotate_format: str | None = None,
    limits: tuple[float, float] | None = None,
) -> Path:
    """Writes a heatmap of `values` (depths, widths); depth D1 on top, width W1 on the left.

    With `budget`, a line is drawn around the cells whose value is at most the budget; `limits`: the colour scale's
    ends (default: the values' own), so that two heatmaps can be read against each other.
    """
    depths, widths = values.shape
    fig = Figure(figsize=(max(4.0, 0.42 * widths + 2.2), max(3.2, 0.36 * depths + 1.4)))
    ax = fig.subplots()
    draw_grid_heatmap(fig, ax, values, title, colorbar_label, budget, annotate_format, limits)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    return path


def plot_accuracy_grid(accuracy: torch.Tensor, run_dir: Path, split: str, preset: str = "") -> Path:
    """Writes accuracy_<split>.png into `run_dir`: the heatmap of an accuracy grid, in percent, on one colour scale with
    the run's grid of the other split when it has one (a colour then means the same accuracy in both)."""
    depths, widths = accuracy.shape
    grids = [accuracy] + [g for g in _other_split_grids(Path(run_dir), split, accuracy.shape)]
    limits = (100 * min(float(g.min()) for g in grids), 100 * max(float(g.max()) for g in grids))
    caption = run_caption(Path(run_dir))
    title = f"{preset} {split} accuracy (%)".strip() + (f"\n{caption}" if caption else "")
    return plot_grid_heatmap(100 * accuracy.numpy(), title, "accuracy (%)",
                             Path(run_dir) / f"accuracy_{split}.png", annotate_format=".0f" if depths * widths <= 400 else None,
                             limits=limits)


def _other_split_grids(run_dir: Path, split: str, shape: tuple[int, int]) -> list[torch.Tensor]:
    """The run's accuracy grids of the other splits (none when absent or unreadable)."""
    grids = []
    for other in {"val", "test"} - {split}:
        try:
            grids.append(read_accuracy_grid(run_dir, other, tuple(shape)))
        except UserError:
            pass  # a damaged file is the evaluation's to report; the figure just keeps its own scale
    return grids


def draw_grid_heatmap(fig: Figure, ax: Axes, values: np.ndarray, title: str, colorbar_label: str,
                      budget: float | None = None, annotate_format: str | None = None,
                      limits: tuple[float, float] | None = None) -> None:
    """The heatmap of `plot_grid_heatmap` on given axes, for figures of several panels."""
    depths, widths = values.shape
    low, high = limits if limits is not None else (float(np.min(values)), float(np.max(values)))
    image = ax.imshow(values, cmap="viridis", aspect="auto", vmin=low, vmax=high)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    ax.set_xticks(range(widths), [f"W{w}" for w in range(1, widths + 1)], rotation=90, fontsize=7)
    ax.set_yticks(range(depths), [f"D{d}" for d in range(1, depths + 1)], fontsize=7)
    ax.set_xlabel("width (channel groups)")
    ax.set_ylabel("depth (exit)")
    ax.set_title(title, fontsize=10)
    if annotate_format:
        for d in range(depths):
            for w in range(widths):
                ax.text(w, d, format(values[d, w], annotate_format), ha="center", va="center", fontsize=6,
                        color=text_colour_on(image.cmap(image.norm(values[d, w]))))
    if budget is not None:
        _outline_feasible(ax, values <= budget)
        ax.set_title(f"{title}\nred line: budget of {budget:,.4g} {colorbar_label}", fontsize=10)


def _outline_feasible(ax: Axes, feasible: np.ndarray) -> None:
    """Draws the border between feasible and infeasible neighbouring cells in red."""
    depths, widths = feasible.shape
    for d in range(depths):
        for w in range(widths):
            if w + 1 < widths and feasible[d, w] != feasible[d, w + 1]:
                ax.plot([w + 0.5, w + 0.5], [d - 0.5, d + 0.5], color="red", lw=1.8)
            if d + 1 < depths and feasible[d, w] != feasible[d + 1, w]:
                ax.plot([w - 0.5, w + 0.5], [d + 0.5, d + 0.5], color="red", lw=1.8)


def text_colour_on(rgba: tuple[float, ...]) -> str:
    """Black on light cells, white on dark ones, by the cell colour's relative luminance (sRGB, WCAG)."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "black" if luminance > 0.179 else "white"  # where black and white text have equal contrast
