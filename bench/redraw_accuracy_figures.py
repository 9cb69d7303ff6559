"""Redraws the accuracy heatmaps of committed runs from their accuracy_{val,test}.json (no model, no data needed),
so that figures in docs/ follow the current drawing code (shared colour scale, readable numbers, caption).

    python bench/redraw_accuracy_figures.py docs/runs/h100_dnnet_resnet32_g22_b512_e40 docs/runs/h100_resnet32_anytime_b512_e40
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnnet.evaluation import read_accuracy_grid
from dnnet.reporting import plot_accuracy_grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories with accuracy_*.json")
    for run in parser.parse_args().runs:
        preset = json.loads((run / "config.json").read_text())["train_config"]["preset"]
        for split in ("val", "test"):
            if (run / f"accuracy_{split}.json").is_file():
                print(plot_accuracy_grid(read_accuracy_grid(run, split), run, split, preset))


if __name__ == "__main__":
    main()
