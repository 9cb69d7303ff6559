"""Heatmaps of a per-cell quantity over depth x width, like the paper's Figure 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_grid_heatmap(
    values: np.ndarray,
    title: str,
    colorbar_label: str,
    path: str | Path,
    budget: float | None = None,
    annotate_format: str | None = None,
) -> Path:
    """Writes a heatmap of `values` (depths, widths); depth D1 on top, width W1 on the left.

    With `budget`, a line is drawn around the cells whose value is at most the budget.
    """
    depths, widths = values.shape
    fig = Figure(figsize=(max(4.0, 0.38 * widths + 2.2), max(3.2, 0.34 * depths + 1.4)))
    ax = fig.subplots()
    draw_grid_heatmap(fig, ax, values, title, colorbar_label, budget, annotate_format)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    return path


def plot_accuracy_grid(accuracy: torch.Tensor, run_dir: Path, split: str, preset: str = "") -> Path:
    """Writes accuracy_<split>.png into `run_dir`: the heatmap of an accuracy grid, in percent."""
    depths, widths = accuracy.shape
    return plot_grid_heatmap(100 * accuracy.numpy(), f"{preset} {split} accuracy (%)".strip(), "accuracy (%)",
                             Path(run_dir) / f"accuracy_{split}.png", annotate_format=".0f" if depths * widths <= 400 else None)


def draw_grid_heatmap(fig: Figure, ax: Axes, values: np.ndarray, title: str, colorbar_label: str,
                      budget: float | None = None, annotate_format: str | None = None) -> None:
    """The heatmap of `plot_grid_heatmap` on given axes, for figures of several panels."""
    depths, widths = values.shape
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, label=colorbar_label)
    ax.set_xticks(range(widths), [f"W{w}" for w in range(1, widths + 1)], rotation=90, fontsize=7)
    ax.set_yticks(range(depths), [f"D{d}" for d in range(1, depths + 1)], fontsize=7)
    ax.set_xlabel("width (channel groups)")
    ax.set_ylabel("depth (exit)")
    ax.set_title(title, fontsize=10)
    if annotate_format:
        low, high = float(np.min(values)), float(np.max(values))
        for d in range(depths):
            for w in range(widths):
                bright = (values[d, w] - low) > 0.6 * (high - low)  # viridis turns yellow: dark text there
                ax.text(w, d, format(values[d, w], annotate_format), ha="center", va="center", fontsize=5,
                        color="black" if bright else "white")
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
