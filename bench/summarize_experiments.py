"""Copies an experiment root's results into docs/ and writes their key numbers as markdown tables.

    python bench/summarize_experiments.py runs/experiments/cpu --out docs/experiments_cpu

The experiment-suite tables in docs/history.md (and those quoted in docs/results.md) are this script's `summary.md`:
every number comes from the experiment JSON files copied beside it (each with its settings, seeds, commit, machine,
wall time).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def fig4_table(record: dict) -> list[str]:
    rows = record["rows"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["| method | seed | width (fraction) | MACs | test accuracy |", "|---|---|---|---|---|"]
    for method in methods:
        for r in sorted((r for r in rows if r["method"] == method), key=lambda r: (r["width_fraction"], r.get("seed", 0))):
            lines.append(f"| {method} | {r.get('seed', record['seed'])} | W{r['width']} ({r['width_fraction']:.3f}) | "
                         f"{r['macs'] / 1e6:.3f}M | {pct(r['test_accuracy'])} |")
    return lines


def fig5_tables(record: dict) -> list[str]:
    lines = [f"Budget: {record['macs_budget'] / 1e6:.3f}M MACs; feature-map limit {record['feature_map_limit']:,.0f} values.", "",
             "| network, seed | best cell (val) | MACs | val | test |", "|---|---|---|---|---|"]
    for key, best in record["best"].items():
        if best is None:
            lines.append(f"| {key} | nothing fits | | | |")
        else:
            accuracies = f"{pct(best['val_accuracy'])} | {pct(best['test_accuracy'])}"
            lines.append(f"| {key} | {best['cell']} | {best['macs'] / 1e6:.3f}M | {accuracies} |")
    gap = record["gap_points_at_budget"]
    lines += ["", f"DNNet minus depth-only at the budget, test points: per seed {gap['per_seed']}, mean {gap['mean']}.", "",
              "| budget (of full DNNet) | resources | DNNet best (test, mean over seeds) | depth-only best | cells (per seed) |",
              "|---|---|---|---|---|"]
    for e in record["sweep"]:
        lines.append(f"| {e['budget_fraction']:.2f} ({e['macs_budget'] / 1e6:.2f}M) | {e['resources']} | "
                     f"{pct(e['DNNet_test_accuracy_mean'])} | {pct(e['depth-only_test_accuracy_mean'])} | "
                     f"{e['DNNet_cells']} / {e['depth-only_cells']} |")
    return lines


def lambda_table(record: dict) -> list[str]:
    columns = [c for c in record["rows"][0] if c not in ("variant", "settings", "run")]
    lines = ["| variant | " + " | ".join(c.replace("_", " ") for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for r in record["rows"]:
        lines.append(f"| {r['variant']} | " + " | ".join(pct(r[c]) for c in columns) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted((args.root / "experiments").iterdir()):
        shutil.copy(path, args.out / path.name)
    records = {p.stem: json.loads(p.read_text()) for p in (args.root / "experiments").glob("*.json")}
    sections = []
    if "fig4" in records:
        sections += ["### fig4: accuracy against width at full depth", "", *fig4_table(records["fig4"]), ""]
    if "fig5" in records:
        sections += ["### fig5: DNNet against the depth-only network under a MAC budget", "", *fig5_tables(records["fig5"]), ""]
    if "lambda" in records:
        sections += ["### lambda: loss weighting and self-distillation (test accuracy)", "", *lambda_table(records["lambda"]), ""]
    if "suite_time" in records:
        row = records["suite_time"]["rows"][0]
        prov = records["suite_time"]["provenance"]
        sections += [f"Wall time of `dnnet experiment all`: {row['wall_seconds'] / 60:.1f} minutes "
                     f"({prov['cpu_count']} cores, torch {prov['torch']}, commit {prov['commit'][:7]}).", ""]
    (args.out / "summary.md").write_text("\n".join(sections))
    print("\n".join(sections))


if __name__ == "__main__":
    main()
