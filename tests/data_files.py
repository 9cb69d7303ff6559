"""Small files in the official formats, written by the tests themselves."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def write_cifar10(folder: Path, per_batch: int = 4, seed: int = 0) -> dict:
    """Five data batches and a test batch as cifar-10-batches-py/ holds them (bytes keys, latin1 pickles)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        (folder / name).write_bytes(pickle.dumps({b"data": data, b"labels": labels, b"batch_label": name.encode()}, protocol=2))
        written[name] = (data, labels)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=2))
    return written


def write_cifar100(folder: Path, count: int = 6, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ["train", "test"]:
        batch = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 b"fine_labels": [int(v) for v in rng.integers(0, 100, count)],
                 b"coarse_labels": [int(v) for v in rng.integers(0, 20, count)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"fine_label_names": [f"class{i}".encode() for i in range(100)], b"coarse_label_names": [b"x"] * 20}
    (folder / "meta").write_bytes(pickle.dumps(meta, protocol=2))


def write_svhn(folder: Path, counts: dict[str, int], seed: int = 0) -> None:
    """train_32x32.mat and test_32x32.mat: X (32, 32, 3, N) uint8, y (N, 1) cycling 10, 1, 2, ... (10 is digit 0)."""
    from scipy.io import savemat  # optional extra, as in the reader

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in counts.items():
        x = rng.integers(0, 256, (32, 32, 3, count), dtype=np.uint8)
        y = np.array([[1 + (i + 9) % 10] for i in range(count)], dtype=np.uint8)
        savemat(folder / f"{split}_32x32.mat", {"X": x, "y": y})


def tar_folder(folder: Path, archive: Path, arcname: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return archive


def png_bytes(value: int, size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_image_tree(root: Path, splits: dict[str, dict[str, int]]) -> None:
    """splits: {"train": {"cat": 3, "dog": 2}, ...} ("" for no split folder); in the s-th split
    listed, image i of class k has pixel value 100*s + 10*k + i, so every image can be told apart."""
    for s, (split, classes) in enumerate(splits.items()):
        for k, (name, count) in enumerate(sorted(classes.items())):
            folder = root / split / name if split else root / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                (folder / f"{i:04d}.png").write_bytes(png_bytes(100 * s + 10 * k + i))
