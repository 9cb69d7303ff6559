"""Choose and run a cell of a dnnet bundle with onnxruntime and numpy alone: no torch, no dnnet.

`dnnet bundle` copies this file into every bundle as select_cell.py:

    python select_cell.py BUNDLE --macs 2e6 [--memory 400000] --images images.npy   # uint8 (N, C, H, W)

prints the chosen cell and one class name per image. In Python: `classify(bundle, images, {"macs": 2e6})`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

MANIFEST = "manifest.json"


def read_manifest(bundle: str | Path) -> dict:
    return json.loads((Path(bundle) / MANIFEST).read_text())


def choose(manifest: dict, limits: dict[str, float]) -> dict:
    """The cell with the best validation accuracy whose every limited resource ("macs", "peak_act_bytes", ...) is
    within its limit; ValueError naming the cheapest cell when none is."""
    fitting = [cell for cell in manifest["cells"] if all(cell[name] <= limit for name, limit in limits.items())]
    if not fitting:
        cheapest = min(manifest["cells"], key=lambda cell: cell["macs"])
        raise ValueError(f"no cell of the bundle fits {limits}; the cheapest, {cheapest['cell']}, needs "
                         + ", ".join(f"{name} {cheapest[name]:g}" for name in limits))
    return max(fitting, key=lambda cell: cell["val_accuracy"])


def load_cell(bundle: str | Path, cell: dict):
    """An onnxruntime session of `cell`, its file checked against the manifest's sha256 first."""
    import onnxruntime

    path = Path(bundle) / cell["file"]
    if hashlib.sha256(path.read_bytes()).hexdigest() != cell["sha256"]:
        raise ValueError(f"{path} does not match its sha256 in {MANIFEST}: the bundle was changed or damaged")
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def normalize(images: np.ndarray, preprocessing: dict) -> np.ndarray:
    """uint8 (N, C, H, W) -> float32, as the network was trained: pixels / 255, then (x - mean) / std per channel."""
    mean = np.asarray(preprocessing["mean"], np.float32)[:, None, None]
    std = np.asarray(preprocessing["std"], np.float32)[:, None, None]
    return ((images.astype(np.float32) / 255 - mean) / std).astype(np.float32)


def classify(bundle: str | Path, images: np.ndarray, limits: dict[str, float]) -> tuple[dict, np.ndarray]:
    """(the chosen cell, the class index of each image) for uint8 images (N, C, H, W) under `limits`."""
    manifest = read_manifest(bundle)
    cell = choose(manifest, limits)
    session = load_cell(bundle, cell)
    (logits,) = session.run(None, {session.get_inputs()[0].name: normalize(images, manifest["preprocessing"])})
    return cell, logits.argmax(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--macs", type=float, default=None)
    parser.add_argument("--memory", type=float, default=None, help="peak activation bytes of a batch-1 pass")
    parser.add_argument("--images", type=Path, required=True, help=".npy of uint8 images (N, C, H, W)")
    args = parser.parse_args()
    limits = {name: value for name, value in (("macs", args.macs), ("peak_act_bytes", args.memory)) if value is not None}
    cell, labels = classify(args.bundle, np.load(args.images, allow_pickle=False), limits)
    classes = read_manifest(args.bundle)["preprocessing"]["classes"]
    print(f"cell {cell['cell']} ({cell['macs']:g} MACs, validation accuracy {100 * cell['val_accuracy']:.2f}%)")
    print(" ".join(classes[i] for i in labels))


if __name__ == "__main__":
    main()
