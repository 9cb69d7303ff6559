"""Adds to a shipped weights folder what choosing a cell or a path needs (the validation grid, the anytime path chosen on
it) from the committed run it was made from, after checking that the folder's test grid is that run's, and writes its
model card. The weights are not touched (their sha256 in `dnnet.models.shipped_weights` stays valid).

    python bench/shipped_model_card.py dnnet_resnet20_g8 docs/cpu_e30/dnnet_lastexit_e30_s0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from dnnet.anytime.path_choice import choose_path, path_record
from dnnet.config import NetConfig
from dnnet.models.model_card import model_card
from dnnet.models.pretrained_files import CARD_FILE, CONFIG_FILE
from dnnet.models.shipped_weights import shipped_weights_folder


def grid_of(run: Path, split: str) -> list[list[float]]:
    return json.loads((run / f"accuracy_{split}.json").read_text())["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset")
    parser.add_argument("run", type=Path, help="the committed run folder the weights were made from")
    args = parser.parse_args()
    folder = shipped_weights_folder(args.preset)
    record = json.loads((folder / CONFIG_FILE).read_text())
    val, test = grid_of(args.run, "val"), grid_of(args.run, "test")
    if record["provenance"]["test_accuracy"]["every_cell"] != test:
        raise SystemExit(f"{folder}'s test grid is not {args.run}'s: the weights were not made from that run")
    config = NetConfig.from_dict(record["net_config"])
    record["provenance"]["validation_accuracy"] = {"full_network": val[-1][-1], "every_cell": val}
    val_grid, test_grid = torch.tensor(val), torch.tensor(test)
    record["provenance"]["anytime_path"] = path_record(choose_path(config, val_grid), config, val_grid, test_grid)
    (folder / CONFIG_FILE).write_text(json.dumps(record, indent=2) + "\n")
    (folder / CARD_FILE).write_text(model_card(record))
    print(f"wrote {folder / CONFIG_FILE} and {folder / CARD_FILE}")


if __name__ == "__main__":
    main()
