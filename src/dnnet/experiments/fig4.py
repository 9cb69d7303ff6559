"""Figure 4: accuracy against width (and MACs) at full depth, DNNet against every baseline.

Methods: DNNet; brute-force slicing of the plain network; fine-tuning of those slices' classifiers;
narrower plain networks trained from scratch (full training); slimmable (sandwich) training of the
plain backbone; and the depth-only anytime network's full network. Test accuracy throughout.
"""

from __future__ import annotations

import json

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from dnnet.accounting import cell_resources
from dnnet.atomic_file import atomic_write
from dnnet.baselines import fine_tuned_accuracy
from dnnet.experiments.result_files import experiment_dir, write_result
from dnnet.experiments.run_store import RunStore

STYLES = {"DNNet": ("tab:red", "o-"), "brute-force slicing": ("tab:grey", "x--"), "fine-tuning": ("tab:orange", "^--"),
          "full training": ("tab:blue", "s-"), "slimmable (sandwich)": ("tab:green", "d-"),
          "depth-only anytime (full)": ("black", "*")}


def runs_needed(protocol) -> list[str]:
    """DNNet, the plain network (brute-force slicing, fine-tuning), slimmable, full training, depth-only: first seed."""
    seed = protocol.seeds[0]
    return [f"dnnet_s{seed}", f"plain_s{seed}", f"sandwich_s{seed}", f"anytime_s{seed}",
            *[f"plain_g{groups}_s{seed}" for groups in protocol.full_training_groups]]


def run(store: RunStore) -> dict:
    protocol = store.protocol
    seed = protocol.seeds[0]
    rows = _width_rows(store, "DNNet", f"dnnet_s{seed}")
    rows += _width_rows(store, "brute-force slicing", f"plain_s{seed}")
    rows += _fine_tuning_rows(store, f"plain_s{seed}")
    rows += _width_rows(store, "slimmable (sandwich)", f"sandwich_s{seed}")
    full_groups = store.net_config(f"plain_s{seed}").groups
    for name in [f"plain_g{g}_s{seed}" for g in protocol.full_training_groups] + [f"plain_s{seed}"]:
        rows += _full_cell_row(store, "full training", name, full_groups)
    rows += _full_cell_row(store, "depth-only anytime (full)", f"anytime_s{seed}", full_groups)
    runs = sorted({r["run"] for r in rows})
    meta = {"protocol": protocol.name, "seed": seed, "accuracy": "test", "runs": runs,
            "training_seconds_of_runs": round(store.training_seconds(runs), 1)}
    _plot(rows, experiment_dir(store.root) / "fig4.png", protocol.name)
    write_result(store.root, "fig4", rows, meta)
    return meta


def _width_rows(store: RunStore, method: str, name: str) -> list[dict]:
    """Every width of a run's last exit, with its MACs."""
    val, test = store.grids(name)
    config = store.net_config(name)
    return [_row(method, name, config, config.num_exits, w, config.groups, val, test) for w in range(1, config.groups + 1)]


def _full_cell_row(store: RunStore, method: str, name: str, full_groups: int) -> list[dict]:
    val, test = store.grids(name)
    config = store.net_config(name)
    return [_row(method, name, config, config.num_exits, config.groups, full_groups, val, test)]


def _fine_tuning_rows(store: RunStore, name: str) -> list[dict]:
    """Refits each width's classifier once; cached beside the plain run."""
    path = store.run_dir(name) / "fine_tuned.json"
    model, record = store.model(name)
    if not path.is_file():
        accuracy = fine_tuned_accuracy(model, store.data(store.config(name)), record["data"]["mean"], record["data"]["std"],
                                       device=store.device)
        with atomic_write(path) as stream:  # reused by later calls: never half-written
            stream.write((json.dumps({split: grid.tolist() for split, grid in accuracy.items()}) + "\n").encode())
    grids = {split: torch.tensor(values, dtype=torch.float64) for split, values in json.loads(path.read_text()).items()}
    config = model.config
    return [_row("fine-tuning", name, config, config.num_exits, w, config.groups, grids["val"], grids["test"])
            for w in range(1, config.groups + 1)]


def _row(method, name, config, depth, width, full_groups, val, test) -> dict:
    cell = cell_resources(config, depth, width)
    return {"method": method, "run": name, "depth": depth, "width": width, "width_fraction": round(width / full_groups, 4),
            "macs": cell.macs, "params": cell.params, "val_accuracy": round(val[depth - 1, width - 1].item(), 6),
            "test_accuracy": round(test[depth - 1, width - 1].item(), 6)}


def _plot(rows: list[dict], path, protocol: str) -> None:
    fig = Figure(figsize=(13, 4.8))
    by_width, by_macs = fig.subplots(1, 2)
    for method, (color, style) in STYLES.items():
        mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["macs"])
        if not mine:
            continue
        for ax, key, scale in [(by_width, "width_fraction", 1.0), (by_macs, "macs", 1e-6)]:
            ax.plot([r[key] * scale for r in mine], [100 * r["test_accuracy"] for r in mine], style, color=color,
                    label=method, ms=8 if style == "*" else 5)
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
    by_width.legend(fontsize=8)
    fig.suptitle(f"Accuracy against width at full depth ({protocol} protocol)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
