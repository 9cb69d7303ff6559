"""Decoded images cached as .npz, so the second run does not decode again."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dnnet.atomic_file import atomic_write
from dnnet.data.splits import ImageDataset

CACHE_VERSION = 3  # bump when a reader changes what it produces (2: an image folder's val/ is its own split;
# 3: 16-bit images scaled, not clipped, and macOS's "._NAME" files passed over)


def default_cache_dir() -> Path:
    return Path(os.environ.get("DNNET_CACHE", Path.home() / ".cache" / "dnnet"))


def source_key(source: Path, reader: str) -> str:
    """Names a cache entry by the reader and the path, size and modification time of every source file."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    digest = hashlib.sha256(f"{CACHE_VERSION}|{reader}|{source.resolve()}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def cached_splits(
    source: Path, reader: str, cache_dir: Path | None, decode: Callable[[], dict[str, ImageDataset]]
) -> dict[str, ImageDataset]:
    """Returns `decode()`'s splits, read from the cache when this source was decoded before."""
    cache_dir = cache_dir or default_cache_dir()
    path = cache_dir / f"{reader}-{source.stem}-{source_key(source, reader)}.npz"
    if path.is_file():
        return _read(path)
    splits = decode()
    _write_atomically(path, splits)
    return splits


def _read(path: Path) -> dict[str, ImageDataset]:
    with np.load(path, allow_pickle=False) as stored:
        classes = [str(c) for c in stored["classes"]]
        names = [str(n) for n in stored["splits"]]
        return {
            name: ImageDataset(torch.from_numpy(stored[f"{name}_images"]), torch.from_numpy(stored[f"{name}_labels"]), classes,
                               tuple(str(entry) for entry in stored[f"{name}_skipped"]) if f"{name}_skipped" in stored else ())
            for name in names
        }


def _write_atomically(path: Path, splits: dict[str, ImageDataset]) -> None:
    """Temporary file, flush, rename: a crash leaves either no entry or a whole one."""
    arrays = {"classes": np.array(next(iter(splits.values())).classes), "splits": np.array(list(splits))}
    for name, dataset in splits.items():
        arrays[f"{name}_images"] = dataset.images.numpy()
        arrays[f"{name}_labels"] = dataset.labels.numpy()
        arrays[f"{name}_skipped"] = np.array(dataset.skipped, dtype=str)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)
