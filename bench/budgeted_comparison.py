"""Budgeted classification, DNNet against its baseline, from the files `dnnet budgeted --baseline` wrote: per budget, the
test accuracy of every DNNet candidate path and of the baseline (greedy thresholds), their differences, and the two
targets of the anytime path - at or above the baseline at every budget from the dearer of the two cheapest stops to
the full network, and on average over those budgets (log-spaced) at least 6 points above.

    python bench/budgeted_comparison.py docs/anytime_path/budgeted_e30_s0/budgeted.json \
        --out docs/anytime_path/budgeted_e30_s0/comparison.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from dnnet.utils.provenance import provenance

METHOD = "greedy"  # the threshold method `dnnet budgeted` reports


def test_accuracy_by_budget(rows: list[dict]) -> dict[float, float]:
    return {row["budget_macs"]: 100 * row["test_accuracy"] for row in rows if row["method"] == METHOD}


def compare(record: dict) -> dict:
    baseline = test_accuracy_by_budget(record["curves"]["baseline"])
    cheapest = max(record["stop_costs"]["DNNet"][0], record["stop_costs"]["baseline"][0])
    in_range = [b for b in record["budgets"] if b >= cheapest and b in baseline]
    chosen = record["path_choice"]["DNNet"]["chosen"]
    paths = {}
    for name, candidate in record["path_candidates"]["DNNet"].items():
        accuracy = test_accuracy_by_budget(candidate["curve"])
        differences = [accuracy[b] - baseline[b] for b in in_range]
        paths[name] = {"cells": candidate["cells"], "chosen": name == chosen,
                       "mean_val_accuracy_over_all_budgets": round(100 * candidate["budgeted_mean_val_accuracy"], 2),
                       "test_accuracy": [round(accuracy[b], 2) for b in in_range],
                       "minus_baseline": [round(d, 2) for d in differences],
                       "mean_minus_baseline": round(statistics.fmean(differences), 2),
                       "at_or_above_at_every_budget": all(d >= 0 for d in differences)}
    return {"budgets_macs": in_range, "from_macs": cheapest, "baseline_test_accuracy": [round(baseline[b], 2) for b in in_range],
            "paths": paths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("budgeted", type=Path, help="a budgeted.json written with --baseline")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = compare(json.loads(args.budgeted.read_text()))
    result["command"] = f"python bench/budgeted_comparison.py {args.budgeted} --out {args.out}"
    result["provenance"] = provenance()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("| average budget | " + " | ".join(f"{b / 1e6:.2f}M" for b in result["budgets_macs"]) + " | mean difference |")
    print("|---" * (len(result["budgets_macs"]) + 2) + "|")
    for name, path in result["paths"].items():
        label = f"DNNet, {name} path" + (" (chosen)" if path["chosen"] else "")
        print(f"| {label} | " + " | ".join(f"{a:.1f} ({d:+.1f})" for a, d in zip(path["test_accuracy"], path["minus_baseline"]))
              + f" | {path['mean_minus_baseline']:+.2f} |")
    print("| baseline | " + " | ".join(f"{a:.1f}" for a in result["baseline_test_accuracy"]) + " | |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
