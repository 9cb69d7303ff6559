"""Decoded images cached as .npz, so the second run does not decode again."""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dnnet.data.splits import ImageDataset
from dnnet.utils.atomic_file import atomic_write

CACHE_VERSION = 4  # bump when a reader changes what it produces (2: an image folder's val/ is its own split;
# 3: 16-bit images scaled, not clipped, macOS's "._NAME" files passed over, a checksum in every entry; 4: the entry's
# own name inside it, so that an entry copied under another source's name is not trusted)


def default_cache_dir() -> Path:
    return Path(os.environ.get("DNNET_CACHE", Path.home() / ".cache" / "dnnet"))


def source_key(source: Path, reader: str) -> str:
    """Names a cache entry by the reader and the path, size and modification time of every source file."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    # os.fsencode: a file name need not be UTF-8 (the same bytes as str.encode for one that is)
    digest = hashlib.sha256(f"{CACHE_VERSION}|{reader}|".encode() + os.fsencode(source.resolve()))
    for path in files:
        stat = path.stat()
        digest.update(b"|" + os.fsencode(path) + f"|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def cached_splits(
    source: Path, reader: str, cache_dir: Path | None, decode: Callable[[], dict[str, ImageDataset]]
) -> dict[str, ImageDataset]:
    """Returns `decode()`'s splits, read from the cache when this source was decoded before.

    A cache entry that is damaged or not what we wrote (checked: arrays, types, shapes, labels, checksum) is decoded
    again with a one-line warning; a cache that cannot be written means a run without it, with a warning.
    """
    cache_dir = cache_dir or default_cache_dir()
    path = cache_dir / f"{reader}-{source.stem}-{source_key(source, reader)}.npz"
    if path.is_file():
        try:
            return _read(path, path.stem)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            print(f"dnnet: the decoded-image cache {path} is damaged ({reason}); decoding the data again", file=sys.stderr)
            path.unlink(missing_ok=True)
    splits = decode()
    try:
        _write_atomically(path, splits, path.stem)
    except OSError as error:
        reason = f"{path.parent} is a file, not a folder" if path.parent.is_file() else error.strerror or error
        print(f"dnnet: cannot write the decoded-image cache {path} ({reason}); going on without it",
              file=sys.stderr)
    return splits


def _checksum(splits: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(splits):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(splits[name]).tobytes())
    return digest.hexdigest()


def _read(path: Path, key: str) -> dict[str, ImageDataset]:
    """The splits of the cache entry written under `key`, or ValueError saying what is wrong with it (the checksum
    proves only that an entry agrees with itself; the key, that it is this source's)."""
    with np.load(path, allow_pickle=False) as stored:
        if "key" not in stored.files or str(stored["key"]) != key:
            raise ValueError("it was written for another source")
        classes = [str(c) for c in stored["classes"]]
        names = [str(n) for n in stored["splits"]]
        arrays = {key: stored[key] for key in stored.files if key.endswith(("_images", "_labels"))}
        if "checksum" not in stored.files or str(stored["checksum"]) != _checksum(arrays):
            raise ValueError("its checksum does not match its arrays")
        splits = {}
        for name in names:
            images, labels = arrays[f"{name}_images"], arrays[f"{name}_labels"]
            if images.dtype != np.uint8 or images.ndim != 4 or labels.ndim != 1 or len(labels) != len(images):
                raise ValueError(f"{name}: images {images.dtype} {images.shape} and labels {labels.shape} do not fit")
            if len(labels) and not 0 <= labels.min() <= labels.max() < len(classes):
                raise ValueError(f"{name}: labels outside 0..{len(classes) - 1}")
            skipped = tuple(str(entry) for entry in stored[f"{name}_skipped"]) if f"{name}_skipped" in stored.files else ()
            splits[name] = ImageDataset(torch.from_numpy(images), torch.from_numpy(labels), classes, skipped)
        return splits


def _write_atomically(path: Path, splits: dict[str, ImageDataset], key: str) -> None:
    """Temporary file, flush, rename: a crash leaves either no entry or a whole one."""
    arrays = {}
    for name, dataset in splits.items():
        arrays[f"{name}_images"] = dataset.images.numpy()
        arrays[f"{name}_labels"] = dataset.labels.numpy()
    extra = {"classes": np.array(next(iter(splits.values())).classes), "splits": np.array(list(splits)),
             "checksum": np.array(_checksum(arrays)), "key": np.array(key)}
    extra.update({f"{name}_skipped": np.array(dataset.skipped, dtype=str) for name, dataset in splits.items()})
    with atomic_write(path) as stream:
        np.savez(stream, **arrays, **extra)
