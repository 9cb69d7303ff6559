"""Summary of the committed training runs under docs/runs: full-network accuracy and the paper's
Figure 5 question - the best cell under a MAC budget, chosen on validation, reported on test.

    python bench/summarize_runs.py --out docs/results_summary.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnnet.evaluation import read_accuracy_grid
from dnnet.runs import RunRecord, read_metrics
from dnnet.selection import best_within, offered_cells


def summarize(run_dir: Path, macs_budget: float) -> dict:
    record = RunRecord.read(run_dir)
    config = record.net_config
    val, test = read_accuracy_grid(run_dir, "val"), read_accuracy_grid(run_dir, "test")
    cells = offered_cells(config)
    choice = best_within(val, cells, {"macs": macs_budget})
    rows = read_metrics(run_dir)
    train_config, provenance = record.train_config, record.provenance or {}
    flat = train_config.to_dict()
    resolved = {"auxiliary_gradient_resolved": record.auxiliary_gradient_resolved,
                "last_exit_gradient_resolved": record.last_exit_gradient_resolved}
    summary = {
        "run": run_dir.name,
        "preset": train_config.preset,
        "recipe": {k: flat[k] for k in ("objective", "cell_heads", "loss_scale", "auxiliary_gradient", "last_exit_gradient",
                                        "width_conditioning", "weighting", "seed") if k in flat}  # a sandwich run has no joint knobs
        | {k: value for k, value in resolved.items() if value is not None},
        "epochs": train_config.optimiser.epochs,
        "batch_size": train_config.optimiser.batch_size,
        "device": provenance.get("cuda_device") or provenance["machine"],
        "commit": provenance["commit"],
        "full_val": round(100 * val[-1, -1].item(), 2),
        "full_test": round(100 * test[-1, -1].item(), 2),
        "full_train_augmented_last_epoch": round(100 * rows[-1]["train_acc_full"], 2),
        # over the cells the network offers: a dense network's narrower slices were never trained
        "mean_over_cells_test": round(100 * sum(test[c.depth - 1, c.width - 1].item() for c in cells) / len(cells), 2),
        # the last exit at each width, and each exit at the full width (test)
        "widths_at_full_depth_test": [round(100 * v, 2) for v in test[-1].tolist()],
        "exits_at_full_width_test": [round(100 * v, 2) for v in test[:, -1].tolist()],
        "train_seconds": round(sum(r["seconds"] for r in rows), 1),
        "macs_budget": macs_budget,
    }
    if choice is not None:
        c = choice.cell
        summary["best_under_budget"] = {"depth": c.depth, "width": c.width, "macs": c.macs,
                                        "val": round(100 * choice.accuracy, 2),
                                        "test": round(100 * test[c.depth - 1, c.width - 1].item(), 2)}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("docs/runs"))
    parser.add_argument("--macs-budget", type=float, default=24e6)
    parser.add_argument("--out", type=Path, default=Path("docs/results_summary.json"))
    args = parser.parse_args()
    runs = sorted(p for p in args.runs.iterdir() if (p / "accuracy_val.json").exists())
    result = {"command": f"python bench/summarize_runs.py --runs {args.runs} --macs-budget {args.macs_budget:g} --out {args.out}",
              "runs": [summarize(run, args.macs_budget) for run in runs]}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
