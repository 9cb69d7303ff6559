"""How the loss weighting lambda(l, c) and self-distillation move the accuracy of small and large cells."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dnnet.accounting import grid_resources
from dnnet.experiments.figure_caption import experiment_caption
from dnnet.experiments.result_files import experiment_dir, write_result
from dnnet.experiments.run_store import RunStore

# cells grouped by their share of the full network's MACs
GROUPS = {"small cells (<= 25% of full MACs)": (0.0, 0.25), "middle cells (25-60%)": (0.25, 0.6),
          "large cells (> 60%)": (0.6, 1.0)}


def runs_needed(protocol) -> list[str]:
    return [protocol.lambda_run(variant) for variant in protocol.lambda_variants]


def run(store: RunStore) -> dict:
    protocol = store.protocol
    rows = []
    for variant, settings in protocol.lambda_variants.items():
        name = protocol.lambda_run(variant)
        val, test = store.grids(name)
        config = store.net_config(name)
        grid = grid_resources(config)
        full = grid[-1].macs
        row = {"variant": variant, "settings": str(settings or "default recipe: uniform, no distillation"), "run": name,
               "full_network": round(test[-1, -1].item(), 6), "smallest_cell": round(test[0, 0].item(), 6),
               "mean_over_cells": round(test.mean().item(), 6)}
        for label, (low, high) in GROUPS.items():
            chosen = [test[c.depth - 1, c.width - 1].item() for c in grid if low * full < c.macs <= high * full]
            row[label] = round(float(np.mean(chosen)), 6)
        rows.append(row)
    names = [protocol.lambda_run(v) for v in protocol.lambda_variants]
    caption = experiment_caption([store.run_dir(name) for name in names], [protocol.seeds[0]])
    meta = {"protocol": protocol.name, "seed": protocol.seeds[0], "accuracy": "test", "runs": names, "caption": caption,
            "training_seconds_of_runs": round(store.training_seconds(names), 1)}
    plot_lambda(rows, experiment_dir(store.root) / "lambda.png", protocol.name, caption)
    write_result(store.root, "lambda", rows, meta)
    return meta


def plot_lambda(rows, path, protocol, caption: str = "") -> None:
    """The bars from lambda.json's rows; `caption` (data, epochs, hardware, seed) under the title."""
    columns = ["smallest_cell", *GROUPS, "full_network", "mean_over_cells"]
    fig = Figure(figsize=(11, 4.5))
    ax = fig.subplots()
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        ax.bar(np.arange(len(columns)) + i * width, [100 * row[c] for c in columns], width, label=row["variant"])
    ax.set_xticks(np.arange(len(columns)) + width * (len(rows) - 1) / 2, [c.replace("_", " ") for c in columns], fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    variants = " and the paper's recipe" if any(row["variant"] == "paper" for row in rows) else ""
    title = f"Loss weighting, self-distillation{variants} ({protocol} protocol)"
    ax.set_title(title + (f"\n{caption}" if caption else ""), fontsize=11)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
