"""How the scale of the joint loss moves what a small network learns (digits, CPU, seed 0).

    python bench/loss_scale_digits.py --out docs/loss_scale_digits.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from dnnet.data import load_data
from dnnet.train import TrainConfig, train
from dnnet.utils.provenance import provenance

VARIANTS = {
    "eq2_as_written": {"loss_scale": "eq2"},
    "eq2_times_exits": {"loss_scale": "depths"},
    "full_network_only": {"weighting": "final"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/loss_scale_digits.json"))
    args = parser.parse_args()
    data = load_data("digits")
    base = dict(preset="dnnet_resnet8_g4", data="digits", epochs=40, batch_size=64, seed=0)
    results = {}
    for name, change in VARIANTS.items():
        with tempfile.TemporaryDirectory() as out:
            summary = train(TrainConfig.from_flat(**{**base, **change}), Path(out) / "run", show_progress=False, data=data)
        val = summary["val"]
        results[name] = {"change": change, "val_full": round(val[-1, -1].item(), 4),
                         "val_full_width_per_exit": [round(v, 4) for v in val[:, -1].tolist()]}
        print(name, results[name], flush=True)
    record = {"command": f"python bench/loss_scale_digits.py --out {args.out}", "base_config": base,
              "results": results, "provenance": provenance()}
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
