"""Trained weights shipped inside the package, by preset, for `create_model(name, pretrained=True)`.

Each entry names a folder under `dnnet/models/weights/` written by `dnnet pretrained` (config.json with the
preprocessing and provenance, model.safetensors), the sha256 of its model.safetensors, the data set, the recipe,
the test accuracy and the command that produced it. The paper's network trained to the paper's schedule is not among
them yet (docs/results.md says how far the longest runs got).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dnnet.errors import UserError
from dnnet.models.pretrained_files import WEIGHTS_FILE

WEIGHTS_DIR = Path(__file__).with_name("weights")
# preset -> {"folder", "sha256", "data", "recipe", "epochs", "test_accuracy" (full network), "command"}
SHIPPED: dict[str, dict[str, Any]] = {
    # the cpu protocol's network trained 30 epochs on this project's 2-core CPU machine (docs/history.md, "How the gap
    # moves with epochs"); a JPEG copy of CIFAR-10: expect a point or so less on the original images
    "dnnet_resnet20_g8": {
        "folder": "dnnet_resnet20_g8_cifar10jpg_e30",
        "sha256": "ab39b5cce4a5bc6f192e2928e0b406512d81438cc770366177b51de7f65505c4",
        "data": "cifar10-jpg", "recipe": "default (last exit's factor 2/7)", "epochs": 30, "test_accuracy": 0.7736,
        "command": "dnnet train --preset dnnet_resnet20_g8 --data ../shared/data/cifar10-jpg.tar.gz --epochs 30 "
                   "--schedule cosine --batch-size 128 --seed 0 --last-exit-gradient 0.2857142857142857 "
                   "--out runs/cpu_e30/dnnet_lastexit_e30_s0; dnnet pretrained runs/cpu_e30/dnnet_lastexit_e30_s0 "
                   "--out src/dnnet/models/weights/dnnet_resnet20_g8_cifar10jpg_e30",
    },
}


def shipped_weights_folder(preset: str) -> Path:
    """The folder of `preset`'s shipped weights, its model.safetensors checked against the recorded sha256."""
    if preset not in SHIPPED:
        shipped = ", ".join(sorted(SHIPPED)) or "none yet"
        raise UserError(f"no trained weights are shipped for {preset!r} (shipped: {shipped}); pass pretrained=PATH to "
                        "load a folder that save_pretrained or `dnnet pretrained` wrote")
    entry = SHIPPED[preset]
    folder = WEIGHTS_DIR / entry["folder"]
    weights = folder / WEIGHTS_FILE
    if not weights.is_file() or hashlib.sha256(weights.read_bytes()).hexdigest() != entry["sha256"]:
        raise UserError(f"{weights} is missing or damaged (its sha256 differs from the one recorded): reinstall dnnet")
    return folder
