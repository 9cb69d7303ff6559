"""Figure 3: MACs, parameters and feature-map memory of every cell, DNNet and depth-only network side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.figure import Figure

from dnnet.accounting import grid_resources
from dnnet.config import cell_name
from dnnet.experiments.protocols import macs_budget
from dnnet.experiments.result_files import experiment_dir, write_result
from dnnet.experiments.run_store import RunStore
from dnnet.models import create_model
from dnnet.reporting import draw_grid_heatmap
from dnnet.selection import cells_within, offered_cells

PANELS = [("macs", "MACs", "million MACs", 1e6), ("params", "parameters", "thousand parameters", 1e3),
          ("largest_feature_map_values", "largest feature map", "thousand values", 1e3)]


def runs_needed(protocol) -> list[str]:
    return []  # resources only: nothing to train


def run(store: RunStore) -> dict:
    protocol = store.protocol
    budget = macs_budget(protocol)
    presets = [(protocol.dnnet, {}), (protocol.anytime, {} if protocol.plain_groups is None else {"groups": protocol.plain_groups})]
    rows, summary = [], {}
    fig = Figure(figsize=(15, 9))
    axes = fig.subplots(2, 3)
    for row_axes, (preset, options) in zip(axes, presets):
        config = create_model(preset, **options).config
        grid = grid_resources(config)
        rows += [{"preset": preset, **dataclasses.asdict(c)} for c in grid]
        feasible = cells_within(offered_cells(config), {"macs": budget})
        deepest = max(feasible, key=lambda c: (c.depth, c.width), default=None)
        summary[preset] = None if deepest is None else cell_name(deepest.depth, deepest.width)
        for ax, (field, title, label, divisor) in zip(row_axes, PANELS):
            values = np.array([getattr(c, field) for c in grid], dtype=float).reshape(config.num_exits, config.groups)
            draw_grid_heatmap(fig, ax, values / divisor, f"{preset} ({config.groups} groups): {title}", label,
                              budget=budget / divisor if field == "macs" else None)
    size = create_model(protocol.dnnet).config.image_size
    fig.suptitle(f"Resources of every cell ({protocol.name} protocol): counted from the architectures, nothing trained; "
                 f"{size}x{size} input", fontsize=12)
    fig.tight_layout()
    fig.savefig(experiment_dir(store.root) / "fig3.png", dpi=110)
    meta = {"protocol": protocol.name, "macs_budget": budget, "deepest_cell_within_budget": summary}
    write_result(store.root, "fig3", rows, meta)
    return meta
