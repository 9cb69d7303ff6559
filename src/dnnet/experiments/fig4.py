"""Figure 4: accuracy against width (and MACs) at full depth, DNNet against every baseline.

Methods: DNNet; brute-force slicing of the plain network; fine-tuning of those slices' classifiers;
narrower plain networks trained from scratch (full training); slimmable (sandwich) training of the
plain backbone; and the depth-only anytime network's full network. Test accuracy throughout. DNNet and the
depth-only network are trained with every seed of the protocol (their mean is drawn, with the seeds' range), the
baselines with the first.
"""

from __future__ import annotations

import json

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from dnnet.accounting import cell_resources
from dnnet.baselines import fine_tuned_accuracy
from dnnet.experiments.figure_caption import experiment_caption
from dnnet.experiments.result_files import experiment_dir, write_result
from dnnet.experiments.run_store import RunStore
from dnnet.experiments.seed_spread import draw_spread, spread_by
from dnnet.utils.atomic_file import atomic_write

STYLES = {"DNNet": ("tab:red", "o-"), "brute-force slicing": ("tab:grey", "x--"), "fine-tuning": ("tab:orange", "^--"),
          "full training": ("tab:blue", "s-"), "slimmable (sandwich)": ("tab:green", "d-"),
          "depth-only anytime (full)": ("black", "*")}


def runs_needed(protocol) -> list[str]:
    """DNNet and depth-only: every seed; the plain network (brute-force slicing, fine-tuning), slimmable and full
    training: the first."""
    seed = protocol.seeds[0]
    return [*[f"dnnet_s{s}" for s in protocol.seeds], f"plain_s{seed}", f"sandwich_s{seed}",
            *[f"anytime_s{s}" for s in protocol.seeds], *[f"plain_g{groups}_s{seed}" for groups in protocol.full_training_groups]]


def run(store: RunStore) -> dict:
    protocol = store.protocol
    seed = protocol.seeds[0]
    rows = [row for s in protocol.seeds for row in _width_rows(store, "DNNet", f"dnnet_s{s}", s)]
    rows += _width_rows(store, "brute-force slicing", f"plain_s{seed}", seed)
    rows += _fine_tuning_rows(store, f"plain_s{seed}", seed)
    rows += _width_rows(store, "slimmable (sandwich)", f"sandwich_s{seed}", seed)
    full_groups = store.net_config(f"plain_s{seed}").groups
    for name in [f"plain_g{g}_s{seed}" for g in protocol.full_training_groups] + [f"plain_s{seed}"]:
        rows += _full_cell_row(store, "full training", name, full_groups, seed)
    for s in protocol.seeds:
        rows += _full_cell_row(store, "depth-only anytime (full)", f"anytime_s{s}", full_groups, s)
    runs = sorted({r["run"] for r in rows})
    caption = experiment_caption([store.run_dir(name) for name in runs], list(protocol.seeds))
    seeds_by_method = {method: sorted({r["seed"] for r in rows if r["method"] == method}) for method in STYLES}
    meta = {"protocol": protocol.name, "seed": seed, "seeds": seeds_by_method, "accuracy": "test", "runs": runs, "caption": caption,
            "training_seconds_of_runs": round(store.training_seconds(runs), 1)}
    plot_fig4(rows, experiment_dir(store.root) / "fig4.png", protocol.name, caption)
    write_result(store.root, "fig4", rows, meta)
    return meta


def _width_rows(store: RunStore, method: str, name: str, seed: int) -> list[dict]:
    """Every width of a run's last exit, with its MACs."""
    val, test = store.grids(name)
    config = store.net_config(name)
    return [_row(method, name, seed, config, config.num_exits, w, config.groups, val, test) for w in range(1, config.groups + 1)]


def _full_cell_row(store: RunStore, method: str, name: str, full_groups: int, seed: int) -> list[dict]:
    val, test = store.grids(name)
    config = store.net_config(name)
    return [_row(method, name, seed, config, config.num_exits, config.groups, full_groups, val, test)]


def _fine_tuning_rows(store: RunStore, name: str, seed: int) -> list[dict]:
    """Refits each width's classifier once; cached beside the plain run."""
    path = store.run_dir(name) / "fine_tuned.json"
    run = store.trained_run(name)
    if not path.is_file():
        accuracy = fine_tuned_accuracy(run.model, store.data(store.config(name)), *run.record.data.stats, device=store.device)
        with atomic_write(path) as stream:  # reused by later calls: never half-written
            stream.write((json.dumps({split: grid.tolist() for split, grid in accuracy.items()}) + "\n").encode())
    grids = {split: torch.tensor(values, dtype=torch.float64) for split, values in json.loads(path.read_text()).items()}
    config = run.record.net_config
    return [_row("fine-tuning", name, seed, config, config.num_exits, w, config.groups, grids["val"], grids["test"])
            for w in range(1, config.groups + 1)]


def _row(method, name, seed, config, depth, width, full_groups, val, test) -> dict:
    cell = cell_resources(config, depth, width)
    return {"method": method, "run": name, "seed": seed, "depth": depth, "width": width, "width_fraction": round(width / full_groups, 4),
            "macs": cell.macs, "params": cell.params, "val_accuracy": round(val[depth - 1, width - 1].item(), 6),
            "test_accuracy": round(test[depth - 1, width - 1].item(), 6)}


def plot_fig4(rows: list[dict], path, protocol: str, caption: str = "") -> None:
    """Both panels from fig4.json's rows; `caption` (data, epochs, hardware, seeds) goes under the title."""
    fig = Figure(figsize=(13, 5.6))
    by_width, by_macs = fig.subplots(1, 2)
    for method, (color, style) in STYLES.items():
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        for ax, key, scale in [(by_width, "width_fraction", 1.0), (by_macs, "macs", 1e-6)]:
            draw_spread(ax, spread_by(mine, key, "test_accuracy"), style, color, method, x_scale=scale, ms=8 if style == "*" else 5)
    by_width.set_xlabel("width (fraction of the full network's channels)")
    by_macs.set_xlabel("MACs needed (millions, log scale)")
    by_macs.set_xscale("log")
    low, high = min(r["macs"] for r in rows) / 1e6, max(r["macs"] for r in rows) / 1e6
    ticks = [t * 10.0**e for e in range(-3, 4) for t in (1, 2, 5) if low * 0.95 <= t * 10.0**e <= high * 1.05]
    by_macs.set_xticks(ticks, [f"{t:g}" for t in ticks])
    by_macs.xaxis.set_minor_formatter(NullFormatter())  # the log axis labels minor ticks too, and they overlap
    for ax in (by_width, by_macs):
        ax.set_ylabel("test accuracy (%), last exit")
        ax.grid(alpha=0.3)
    handles, labels = by_width.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)  # below the panels: covers no data
    fig.suptitle(f"Accuracy against width at full depth ({protocol} protocol)" + (f"\n{caption}" if caption else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=120)
