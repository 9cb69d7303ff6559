"""Which channel groups of a trained network's last exit read nothing: the share of test images whose pooled
features of a group are all zero (after the last ReLU), per group, for each run directory given.

    python bench/silent_groups.py runs/screen/aux01_cells_e3_s0 runs/screen/joint_e3_s0 --out docs/silent_groups.json

A group whose features are zero for every image leaves its classifier nothing to read: the narrowest cell
that ends at it can only answer one class.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from dnnet.data import load_data
from dnnet.runs import TrainedRun
from dnnet.utils.provenance import provenance


def silent_share(run_dir: Path, images: int) -> list[float]:
    run = TrainedRun.open(run_dir)
    model, train_config = run.model, run.record.train_config
    test = load_data(train_config.dataset.data, train_config.dataset.data_dir, seed=train_config.seed).test
    x = run.normalize(test.images[:images])
    config = model.config
    with torch.no_grad():
        *_, last = model.exit_features(x, config.num_exits, config.groups)
    pooled = last.mean(dim=(2, 3)).reshape(len(x), config.groups, -1)
    return [round(v, 4) for v in (pooled == 0).all(dim=2).float().mean(dim=0).tolist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--images", type=int, default=1000, help="the first this many test images")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = {run.name: silent_share(run, args.images) for run in args.runs}
    for name, shares in rows.items():
        print(f"{name}: share of images with group g silent, g = 1..{len(shares)}: {shares}")
    if args.out:
        record = {"command": "python bench/silent_groups.py " + " ".join(str(r) for r in args.runs) + f" --out {args.out}",
                  "images": args.images, "split": "test", "silent_share_per_group": rows, "provenance": provenance()}
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
