"""Figures of a trained run: accuracy against MACs with its Pareto front, and training curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dnnet.accounting import CellResources
from dnnet.config import cell_name
from dnnet.selection import ChosenCell, pareto_front


def plot_accuracy_vs_macs(accuracy: torch.Tensor, grid: Sequence[CellResources], path: Path, title: str,
                          choice: ChosenCell | None = None, budget: float | None = None) -> Path:
    """Every cell as a point (colour = depth), the Pareto front as a line, the full-width exits ringed."""
    fig = Figure(figsize=(7.5, 5.2))
    ax = fig.subplots()
    macs = [c.macs / 1e6 for c in grid]
    acc = [100 * accuracy[c.depth - 1, c.width - 1].item() for c in grid]
    points = ax.scatter(macs, acc, c=[c.depth for c in grid], cmap="viridis", s=14)
    fig.colorbar(points, ax=ax, label="depth (exit)")
    widest = max(c.width for c in grid)
    full = [c for c in grid if c.width == widest]
    ax.scatter([c.macs / 1e6 for c in full], [100 * accuracy[c.depth - 1, c.width - 1].item() for c in full],
               facecolors="none", edgecolors="black", s=40, label="full width (depth-only choices)")
    front = pareto_front(accuracy, grid)
    ax.plot([c.macs / 1e6 for c in front], [100 * accuracy[c.depth - 1, c.width - 1].item() for c in front],
            color="red", lw=1.4, label="Pareto front")
    if budget is not None:
        ax.axvline(budget / 1e6, color="grey", ls="--", lw=1, label=f"budget {budget / 1e6:.3g}M MACs")
    if choice is not None:
        ax.scatter([choice.cell.macs / 1e6], [100 * choice.accuracy], marker="*", s=180, color="orange", edgecolors="black",
                   zorder=5, label=f"chosen {cell_name(choice.cell.depth, choice.cell.width)}")
    ax.set_xscale("log")  # cells span two orders of magnitude of MACs; a linear axis crowds the small ones together
    ax.set_xlabel("MACs needed (millions, log scale)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, frameon=False)  # below: covers no point
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    return path


def plot_training_curves(rows: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Training loss and validation accuracy (full network, mean over cells, smallest cell) per epoch."""
    epochs = [r["epoch"] for r in rows]
    fig = Figure(figsize=(10, 4.4))
    left, right = fig.subplots(1, 2)
    left.plot(epochs, [r["train_loss"] for r in rows], marker=".")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss (joint)")
    left.grid(alpha=0.3)
    for key, label in [("val_acc_full", "full network, validation"), ("val_acc_mean_cells", "mean over cells, validation"),
                       ("val_acc_smallest", "smallest cell, validation (1x1; dense: exit 1)"),
                       ("train_acc_full", "full network, train (augmented)")]:
        right.plot(epochs, [100 * r[key] for r in rows], marker=".", label=label)
    right.set_xlabel("epoch")
    for axes in (left, right):  # whole epochs: a run of 3 epochs has no epoch 2.5
        if len(epochs) <= 15:
            axes.set_xticks(epochs)
            axes.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_ylabel("accuracy (%)")
    right.grid(alpha=0.3)
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # below: covers no curve
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    return path


def plot_feature_map_by_width(grid: Sequence[CellResources], path: Path, title: str) -> Path:
    """The largest feature map of a cell against its width: it does not change with depth (the stem's output is the
    largest from exit 1 on), so one line per width says what a heatmap would repeat on every row."""
    widths = sorted({cell.width for cell in grid})
    largest = [max(cell.largest_feature_map_values for cell in grid if cell.width == width) for width in widths]
    fig = Figure(figsize=(6.5, 3.6))
    axes = fig.subplots()
    axes.plot(widths, [value / 1e3 for value in largest], marker="o")
    for width, value in zip(widths, largest):
        axes.annotate(f"{value / 1e3:.3g}", (width, value / 1e3), textcoords="offset points", xytext=(0, 5), ha="center",
                      fontsize=7)
    axes.set_xlabel("width (groups)")
    axes.set_ylabel("largest feature map (thousand values)")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    return path
