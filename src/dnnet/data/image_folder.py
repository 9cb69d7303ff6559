"""A tree of class folders (ImageFolder), as a folder or a .tar/.tar.gz archive.

With train/ (and test/, val/) at the top, those folders are the splits; otherwise every image is
training data. Without test/, a test split is held out of train with a fixed seed; without val/,
load_data holds validation out of train with the run's seed.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image

from dnnet.data.safe_archive import iter_files
from dnnet.data.splits import ImageDataset, hold_out
from dnnet.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff"}
SPLIT_FOLDERS = ("train", "val", "test")


def read_image_folder(source: Path, test_fraction: float = 0.2, seed: int = 0) -> dict[str, ImageDataset]:
    """Splits named by the top folders ("train", and "val" / "test" when present), test always among them."""
    files = _image_files(source)
    by_split: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    has_splits = any(parts[0] in SPLIT_FOLDERS for parts, _ in files if len(parts) >= 3)
    for parts, blob in files:
        if has_splits and len(parts) >= 3 and parts[0] in SPLIT_FOLDERS:
            by_split[parts[0]].append((parts[-2], blob))
        elif not has_splits and len(parts) >= 2:
            by_split["train"].append((parts[-2], blob))
    if not by_split.get("train"):
        raise UserError(f"{source}: no class folders with images found (expected CLASS/IMAGE or train/CLASS/IMAGE)")
    classes = sorted({label for label, _ in by_split["train"]})
    splits = {name: _decode(source, name, items, classes) for name, items in by_split.items()}
    if "test" not in splits:
        count = max(1, round(test_fraction * len(splits["train"])))
        splits["train"], splits["test"] = hold_out(splits["train"], count, seed)
    return splits


def _image_files(source: Path) -> list[tuple[tuple[str, ...], bytes]]:
    """(path parts below the root, bytes) of every image file, in a stable order."""
    if source.is_dir():
        paths = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        return [(p.relative_to(source).parts, p.read_bytes()) for p in paths]
    files = [(PurePosixPath(name).parts, blob) for name, blob in iter_files(source)
             if PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES]
    files = [(_strip_wrapper(parts), blob) for parts, blob in files]
    return sorted(files)


def _strip_wrapper(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Drops a leading './'."""
    return parts[1:] if parts and parts[0] == "." else parts


def _decode(source: Path, split: str, items: list[tuple[str, bytes]], classes: list[str]) -> ImageDataset:
    unknown = sorted({label for label, _ in items} - set(classes))
    if unknown:
        raise UserError(f"{source}: {split} classes {unknown} do not appear in train")
    blobs = [blob for _, blob in items]
    workers = min(8, os.cpu_count() or 1)
    chunks = [blobs[i : i + 2000] for i in range(0, len(blobs), 2000)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            arrays = [a for chunk in pool.map(_decode_chunk, chunks) for a in chunk]
    else:
        arrays = [a for chunk in chunks for a in _decode_chunk(chunk)]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise UserError(f"{source}: images differ in size {sorted(shapes)[:3]}; resize them to one size first")
    images = torch.from_numpy(np.stack(arrays).transpose(0, 3, 1, 2).copy())
    labels = torch.tensor([classes.index(label) for label, _ in items])
    return ImageDataset(images, labels, classes)


def _decode_chunk(blobs: list[bytes]) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"), dtype=np.uint8) for blob in blobs]
