"""Trained weights shipped inside the package, by preset, for `create_model(name, pretrained=True)`.

Each entry names a folder under `dnnet/models/weights/` written by `save_pretrained` (config.json with the
preprocessing and provenance, model.safetensors), the sha256 of its model.safetensors, the data set, the recipe,
the test accuracy and the command that produced it. None is shipped yet: no network has been trained to the
paper's schedule (docs/results.md says how far the longest runs got).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dnnet.errors import UserError
from dnnet.pretrained_files import WEIGHTS_FILE

WEIGHTS_DIR = Path(__file__).with_name("weights")
SHIPPED: dict[str, dict[str, Any]] = {}  # preset -> {"folder", "sha256", "data", "recipe", "test_accuracy", "command"}


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
