"""CIFAR-10 and CIFAR-100 in the official python pickle batches (folder or .tar.gz)."""

from __future__ import annotations

import io
import pickle
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from dnnet.data.safe_archive import iter_files
from dnnet.data.splits import ImageDataset
from dnnet.errors import UserError

# file names inside cifar-10-batches-py/ and cifar-100-python/
CIFAR10_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"], "meta": "batches.meta"}
CIFAR100_FILES = {"train": ["train"], "test": ["test"], "meta": "meta"}


class _ArraysOnly(pickle.Unpickler):
    """The batches hold dicts of numpy arrays and lists; nothing else may be built while unpickling."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")
        return super().find_class(module, name)


def load_batch(blob: bytes, source: str) -> dict:
    try:
        batch = _ArraysOnly(io.BytesIO(blob), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise UserError(f"{source}: not a CIFAR python batch ({error})") from error
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in batch.items()}


def read_cifar(source: Path, fine_labels: bool | None = None) -> dict[str, ImageDataset]:
    """Reads train and test from a folder of batches or the official archive.

    CIFAR-10 or CIFAR-100 is told from the file names; CIFAR-100 uses its 100 fine labels.
    """
    files = _collect_files(source)
    layout = CIFAR10_FILES if "test_batch" in files else CIFAR100_FILES
    missing = [name for name in layout["train"] + layout["test"] + [layout["meta"]] if name not in files]
    if missing:
        raise UserError(f"{source}: missing CIFAR batch files {missing}")
    is_cifar100 = layout is CIFAR100_FILES
    label_key = "fine_labels" if is_cifar100 else "labels"
    meta = load_batch(files[layout["meta"]], f"{source}:{layout['meta']}")
    classes = [c.decode() if isinstance(c, bytes) else str(c) for c in meta["fine_label_names" if is_cifar100 else "label_names"]]
    splits = {}
    for split in ("train", "test"):
        batches = [load_batch(files[name], f"{source}:{name}") for name in layout[split]]
        data = np.concatenate([np.asarray(b["data"], dtype=np.uint8) for b in batches])
        labels = np.concatenate([np.asarray(b[label_key], dtype=np.int64) for b in batches])
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise UserError(f"{source}: {split} data has shape {data.shape}, expected (N, 3072)")
        splits[split] = ImageDataset(torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(labels), classes)
    return splits


def _collect_files(source: Path) -> dict[str, bytes]:
    """Batch name -> bytes, from a folder (searched recursively) or a .tar/.tar.gz."""
    if source.is_dir():
        return {p.name: p.read_bytes() for p in source.rglob("*") if p.is_file()}
    return {PurePosixPath(name).name: blob for name, blob in iter_files(source)}
