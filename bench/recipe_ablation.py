"""Training recipes against each other on the cpu protocol's networks (CIFAR-10 JPEGs, 2 CPU cores).

    python bench/recipe_ablation.py --out runs/recipes --epochs 7 --seed 0 --arms full_only,ge_cells,plain
    python bench/recipe_ablation.py --out runs/recipes --summary docs/recipe_ablation.json   # collect what finished

Each arm is a TrainConfig over the cpu protocol's base (dnnet_resnet20_g8, cosine schedule, batch 128) and the paper's
recipe (`--recipe paper`; "cellheads_aux01_cells" is today's default),
trained with `dnnet.train.train` into OUT/ARM_eEPOCHS_sSEED; a finished run is reused. The summary
reads every finished run: full-network train and test accuracy, every width at full depth, the mean
over cells and the best cell under the scaled 24M-MAC budget (chosen on validation).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnnet.config import cell_name
from dnnet.evaluation import read_accuracy_grid
from dnnet.experiments import get_protocol, macs_budget
from dnnet.runs import RunRecord, TrainConfig, is_finished, read_metrics
from dnnet.runs.train_config import PAPER_RECIPE, RECIPES
from dnnet.selection import best_within, offered_cells
from dnnet.train import train
from dnnet.utils.provenance import provenance

PROTOCOL = get_protocol("cpu")
DEFAULT_RECIPE = RECIPES["default"]
GE_SUM = {"gradient_equilibrium": True, "loss_scale": "cells"}
ARMS = {  # name -> (preset, settings over the protocol's base)
    "joint": (PROTOCOL.dnnet, {}),  # the paper's recipe: Eq. 2 summed over exits, summed heads (the default before this study)
    "full_only": (PROTOCOL.dnnet, {"weighting": "final"}),  # the causal network trained on its full network alone
    "plain": (PROTOCOL.plain, {"groups": PROTOCOL.plain_groups}),  # dense ResNet-20, 6 groups: the target
    "anytime": (PROTOCOL.anytime, {"groups": PROTOCOL.plain_groups}),  # depth-only anytime ResNet-20
    "macs": (PROTOCOL.dnnet, {"weighting": "macs"}),
    "eq2": (PROTOCOL.dnnet, {"loss_scale": "eq2"}),  # the paper's Eq. 2 as written: the cells' losses sum to one
    "macs_eq2": (PROTOCOL.dnnet, {"weighting": "macs", "loss_scale": "eq2"}),
    "aux05_cells": (PROTOCOL.dnnet, {"auxiliary_gradient": 0.05, "loss_scale": "cells"}),
    "aux01_cells": (PROTOCOL.dnnet, {"auxiliary_gradient": 0.01, "loss_scale": "cells"}),
    "cellheads": (PROTOCOL.dnnet, {"cell_heads": True}),
    "cellheads_aux01_cells": (PROTOCOL.dnnet, {"cell_heads": True, "auxiliary_gradient": 0.01, "loss_scale": "cells"}),
    "cellheads_aux03_cells": (PROTOCOL.dnnet, {"cell_heads": True, "auxiliary_gradient": 0.03, "loss_scale": "cells"}),
    "cellheads_aux003_cells": (PROTOCOL.dnnet, {"cell_heads": True, "auxiliary_gradient": 0.003, "loss_scale": "cells"}),
    "default": (PROTOCOL.dnnet, DEFAULT_RECIPE),  # the factor 1/79
    "last_exit_01": (PROTOCOL.dnnet, {**DEFAULT_RECIPE, "last_exit_gradient": 0.1}),
    "last_exit_03": (PROTOCOL.dnnet, {**DEFAULT_RECIPE, "last_exit_gradient": 0.3}),
    "last_exit_1": (PROTOCOL.dnnet, {**DEFAULT_RECIPE, "last_exit_gradient": 1.0}),
    "conditioned": (PROTOCOL.dnnet, {**DEFAULT_RECIPE, "width_conditioning": True}),  # a scale, shift, statistics per width
    "anytime_aux01": (PROTOCOL.anytime, {"groups": PROTOCOL.plain_groups, "auxiliary_gradient": 0.01}),
    "ge_cells": (PROTOCOL.dnnet, GE_SUM),
    "ge_cells_ws2": (PROTOCOL.dnnet, {**GE_SUM, "width_samples": 2}),
    "ge_cells_ws2_distill": (PROTOCOL.dnnet, {**GE_SUM, "width_samples": 2, "distill_weight": 0.5}),
    "ge_cells_nostem": (PROTOCOL.dnnet, {**GE_SUM, "drop_stem_exit": True}),
    "ge_cells_ramp": (PROTOCOL.dnnet, {**GE_SUM, "exit_ramp": 0.3}),
    "ge_depths": (PROTOCOL.dnnet, {"gradient_equilibrium": True}),
    "ws2_distill": (PROTOCOL.dnnet, {"width_samples": 2, "distill_weight": 0.5}),
    "macs_distill": (PROTOCOL.dnnet, {"weighting": "macs", "distill_weight": 0.5}),
    "macs_distill_ge": (PROTOCOL.dnnet, {"weighting": "macs", "distill_weight": 0.5, "gradient_equilibrium": True}),
    "macs_ws2_distill": (PROTOCOL.dnnet, {"weighting": "macs", "distill_weight": 0.5, "width_samples": 2}),
    "half_final_distill": (PROTOCOL.dnnet, {"weighting": "half_final", "distill_weight": 0.5}),
}


def arm_config(arm: str, epochs: int, seed: int, data: str) -> TrainConfig:
    """The arm's settings over the paper's recipe (the default when the study began), so that each name keeps its meaning."""
    preset, settings = ARMS[arm]
    return PROTOCOL.with_overrides(epochs=epochs, data=data).base(preset, seed, **{**PAPER_RECIPE, **settings})


def summarize(run_dir: Path) -> dict:
    """The numbers the recipe study compares, from a finished run directory."""
    record = RunRecord.read(run_dir)
    config = record.net_config
    val, test = read_accuracy_grid(run_dir, "val"), read_accuracy_grid(run_dir, "test")
    cells = offered_cells(config)
    chosen = best_within(val, cells, {"macs": macs_budget(PROTOCOL, cells[-1].macs)})
    last = read_metrics(run_dir)[-1]
    widths = [round(v, 4) for v in test[-1].tolist()] if config.causal else None
    return {
        "run": run_dir.name, "train_config": record.train_config.to_dict(), "commit": (record.provenance or {}).get("commit"),
        "full_test": round(test[-1, -1].item(), 4), "full_train_augmented": round(last["train_acc_full"], 4),
        "widths_at_full_depth_test": widths,
        "mean_over_offered_cells_test": round(sum(test[c.depth - 1, c.width - 1].item() for c in cells) / len(cells), 4),
        "best_under_budget": None if chosen is None else {
            "cell": cell_name(chosen.cell.depth, chosen.cell.width), "macs": chosen.cell.macs,
            "test": round(test[chosen.cell.depth - 1, chosen.cell.width - 1].item(), 4)},
        "seconds": sum(row["seconds"] for row in read_metrics(run_dir)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/recipes"))
    parser.add_argument("--arms", default="", help=f"comma-separated, of: {', '.join(ARMS)}")
    parser.add_argument("--epochs", type=int, default=PROTOCOL.epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="../shared/data/cifar10-jpg.tar.gz", help="what docs/results.md trained on")
    parser.add_argument("--summary", type=Path, default=None, help="write the summary of every finished run here")
    args = parser.parse_args()
    for arm in filter(None, args.arms.split(",")):
        run_dir = args.out / f"{arm}_e{args.epochs}_s{args.seed}"
        if not is_finished(run_dir):
            print(f"training {run_dir.name}", flush=True)
            train(arm_config(arm, args.epochs, args.seed, args.data), run_dir, resume=(run_dir / "checkpoint.pt").exists(),
                  show_progress=False)
    if args.summary:
        runs = sorted(p for p in args.out.iterdir() if is_finished(p))
        record = {"command": "python bench/recipe_ablation.py --out " + str(args.out) + " --summary " + str(args.summary),
                  "protocol": "cpu", "runs": [summarize(p) for p in runs], "provenance": provenance()}
        args.summary.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.summary} ({len(runs)} runs)")
        print(markdown_rows(record["runs"]))


def markdown_rows(summaries: list[dict]) -> str:
    """One table row per run: full network test (train), widths 1/2/4/6 at full depth, mean over cells, best under budget."""
    def pct(value: float) -> str:
        return f"{100 * value:.1f}"

    rows = []
    for r in summaries:
        widths = r["widths_at_full_depth_test"] or []
        picked = " / ".join(pct(widths[w - 1]) for w in (1, 2, 4, 6)) if len(widths) >= 6 else "-"
        best = r["best_under_budget"]
        rows.append(f"| {r['run']} | {pct(r['full_test'])} ({pct(r['full_train_augmented'])}) | {picked} | "
                    f"{pct(r['mean_over_offered_cells_test'])} | {best['cell'] + ' ' + pct(best['test']) if best else '-'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
