"""Figure 5: under a MAC budget, every feasible DNNet cell against every feasible depth-only exit.

Cells are chosen on validation accuracy and reported with test accuracy. Beyond the paper's one
budget: a sweep of budgets (best of each network against the budget) and a second resource at the
same time (largest feature map), which a depth-only network cannot trade against at all: all its
exits keep the full width's first feature map.
"""

from __future__ import annotations

import statistics

from matplotlib.figure import Figure

from dnnet.accounting import CellResources
from dnnet.config import cell_name
from dnnet.experiments.figure_caption import experiment_caption
from dnnet.experiments.protocols import macs_budget
from dnnet.experiments.result_files import experiment_dir, write_result
from dnnet.experiments.run_store import RunStore
from dnnet.experiments.seed_spread import SpreadPoint, draw_spread
from dnnet.selection import best_within, offered_cells

NETWORKS = {"DNNet": "dnnet", "depth-only": "anytime"}


def runs_needed(protocol) -> list[str]:
    """Both networks, every seed."""
    return [f"{prefix}_s{seed}" for seed in protocol.seeds for prefix in NETWORKS.values()]


def run(store: RunStore) -> dict:
    protocol = store.protocol
    cells = {label: _cells(store, prefix) for label, prefix in NETWORKS.items()}  # label -> seed -> (grid, val, test)
    full_macs = max(c.macs for c in cells["DNNet"][protocol.seeds[0]][0])
    budget = macs_budget(protocol, full_macs)
    plain_grid = cells["depth-only"][protocol.seeds[0]][0]
    feature_map_limit = protocol.feature_map_fraction * max(c.largest_feature_map_values for c in plain_grid)
    rows, best, sweep = [], {}, []
    for label, per_seed in cells.items():
        for seed, (grid, val, test) in per_seed.items():
            rows += [_row(label, seed, c, val, test) for c in grid if c.macs <= budget]
            best[f"{label}_s{seed}"] = _best(grid, val, test, {"macs": budget})
            with_feature_map = {"macs": budget, "largest_feature_map_values": feature_map_limit}
            best[f"{label}_s{seed}_with_feature_map"] = _best(grid, val, test, with_feature_map)
    for fraction in protocol.budget_fractions:
        limits = {"macs": fraction * full_macs}
        for resources, extra in [("macs", {}), ("macs+feature_map", {"largest_feature_map_values": feature_map_limit})]:
            entry = {"budget_fraction": fraction, "macs_budget": round(fraction * full_macs), "resources": resources}
            for label, per_seed in cells.items():
                choices = [_best(grid, val, test, {**limits, **extra}) for grid, val, test in per_seed.values()]
                accs = [c["test_accuracy"] for c in choices if c is not None]
                entry[f"{label}_test_accuracy_mean"] = round(statistics.mean(accs), 6) if len(accs) == len(choices) else None
                entry[f"{label}_test_accuracy_per_seed"] = [None if c is None else c["test_accuracy"] for c in choices]
                entry[f"{label}_cells"] = ";".join("none" if c is None else c["cell"] for c in choices)
            sweep.append(entry)
    caption = experiment_caption([store.run_dir(name) for name in runs_needed(protocol)], list(protocol.seeds))
    meta = {"protocol": protocol.name, "seeds": list(protocol.seeds), "caption": caption, "macs_budget": budget,
            "feature_map_limit": feature_map_limit, "accuracy": "test (cells chosen on validation)", "best": best,
            "gap_points_at_budget": _gap(best, protocol.seeds), "sweep": sweep,
            "training_seconds_of_runs": round(store.training_seconds(runs_needed(protocol)), 1)}
    plot_fig5(rows, best, sweep, budget, experiment_dir(store.root) / "fig5.png", protocol, caption)
    write_result(store.root, "fig5", rows, meta)
    return meta


def _cells(store: RunStore, prefix: str) -> dict[int, tuple[list[CellResources], object, object]]:
    """Per seed: the cells a network offers (depth-only: its full-width exits), with both accuracy grids."""
    out = {}
    for seed in store.protocol.seeds:
        name = f"{prefix}_s{seed}"
        val, test = store.grids(name)
        config = store.net_config(name)
        out[seed] = (offered_cells(config), val, test)
    return out


def _best(grid, val, test, limits) -> dict | None:
    choice = best_within(val, grid, limits)
    if choice is None:
        return None
    c = choice.cell
    return {"cell": cell_name(c.depth, c.width), "macs": c.macs, "largest_feature_map_values": c.largest_feature_map_values,
            "val_accuracy": round(choice.accuracy, 6), "test_accuracy": round(test[c.depth - 1, c.width - 1].item(), 6)}


def _row(label: str, seed: int, cell: CellResources, val, test) -> dict:
    return {"network": label, "seed": seed, "depth": cell.depth, "width": cell.width, "macs": cell.macs,
            "largest_feature_map_values": cell.largest_feature_map_values,
            "val_accuracy": round(val[cell.depth - 1, cell.width - 1].item(), 6),
            "test_accuracy": round(test[cell.depth - 1, cell.width - 1].item(), 6)}


def _gap(best: dict, seeds) -> dict:
    gaps = [100 * (best[f"DNNet_s{s}"]["test_accuracy"] - best[f"depth-only_s{s}"]["test_accuracy"])
            for s in seeds if best[f"DNNet_s{s}"] and best[f"depth-only_s{s}"]]
    return {"per_seed": [round(g, 2) for g in gaps], "mean": round(statistics.mean(gaps), 2) if gaps else None}


def plot_fig5(rows, best, sweep, budget, path, protocol, caption: str = "") -> None:
    """The three panels from fig5.json (rows, best, sweep); `caption` (data, epochs, hardware, seeds) on top."""
    fig = Figure(figsize=(17, 5.2))
    axes = fig.subplots(1, 3)
    seed = protocol.seeds[0]
    colors = {"DNNet": "tab:red", "depth-only": "tab:blue"}
    for label, color in colors.items():
        mine = [r for r in rows if r["network"] == label and r["seed"] == seed]
        axes[0].scatter([r["macs"] / 1e6 for r in mine], [100 * r["test_accuracy"] for r in mine], s=14, color=color,
                        alpha=0.6, label=f"{label}: {len(mine)} feasible cells")
        choice = best[f"{label}_s{seed}"]
        if choice:
            axes[0].scatter([choice["macs"] / 1e6], [100 * choice["test_accuracy"]], marker="*", s=220, color=color,
                            edgecolors="black", zorder=5, label=f"best {label}: {choice['cell']} {100 * choice['test_accuracy']:.1f}%")
    axes[0].set_title(f"Cells within {budget / 1e6:.3g}M MACs (seed {seed}); star: chosen on validation", fontsize=10)
    axes[0].set_xlabel("MACs needed (millions)")
    second = f"same, and largest feature map <= {protocol.feature_map_fraction:g} x the full width's"
    for ax, resources, title in [(axes[1], "macs", "best cell against the MAC budget"), (axes[2], "macs+feature_map", second)]:
        entries = [e for e in sweep if e["resources"] == resources]
        for label, color in colors.items():
            points = [_sweep_point(e, label) for e in entries if e[f"{label}_test_accuracy_mean"] is not None]
            note = "" if points else ": no cell fits any of these budgets"
            if points and len(protocol.seeds) > 1 and f"{label}_test_accuracy_per_seed" not in entries[0]:
                note = f" (mean of {len(protocol.seeds)} seeds)"  # a file from before the seeds' values were kept
            draw_spread(ax, points, "o-", color, f"{label}{note}", x_scale=1e-6)
        ax.axvline(budget / 1e6, color="grey", ls="--", lw=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("MAC budget (millions)")
    for ax in axes:
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    if caption:
        fig.suptitle(f"DNNet against the depth-only network under a MAC budget ({protocol.name} protocol)\n{caption}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _sweep_point(entry: dict, label: str) -> SpreadPoint:
    """A budget of the sweep as a point: the mean over seeds and, where the file has them, the seeds' range."""
    per_seed = entry.get(f"{label}_test_accuracy_per_seed", [entry[f"{label}_test_accuracy_mean"]])
    return SpreadPoint(entry["macs_budget"], entry[f"{label}_test_accuracy_mean"], min(per_seed), max(per_seed), len(per_seed))
