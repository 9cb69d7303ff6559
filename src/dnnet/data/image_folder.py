"""A tree of class folders (ImageFolder), as a folder or a .tar/.tar.gz archive.

With train/ (and test/, val/) at the top, those folders are the splits; otherwise every image is
training data. Without test/, a test split is held out of train with a fixed seed; without val/,
load_data holds validation out of train with the run's seed. macOS's "._NAME" metadata files are not images and
are passed over, as is everything under a hidden folder (".ipynb_checkpoints/", ".git/"); an image that cannot be
decoded, or a link to a file that is not there, is refused by its path and reason, or left out on request. An archive
that holds one name twice is refused (which of the two would be read is not the user's choice).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from dnnet.data.image_decode import decode_images
from dnnet.data.image_size import fit_image
from dnnet.data.safe_archive import iter_files
from dnnet.data.splits import ImageDataset, hold_out
from dnnet.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff"}
SPLIT_FOLDERS = ("train", "val", "test")
MAX_IMAGE_FILE_BYTES = 64 * 2**20  # a file above this is refused unread (no image of a data set we train is near it)
MAX_TOTAL_IMAGE_BYTES = 8 * 2**30  # the encoded images of a data set, all held in memory while they are decoded
_TOO_LARGE = "{source}: its images hold more than {limit:,} bytes; this reader keeps a data set in memory (CIFAR-sized sets)"


def read_image_folder(source: Path, test_fraction: float = 0.2, seed: int = 0,
                      skip_bad_images: bool = False, image_size: int | None = None) -> dict[str, ImageDataset]:
    """Splits named by the top folders ("train", and "val" / "test" when present), test always among them.

    A class is the path between the split folder (or the root) and the image, so `animals/cat` and `vehicles/cat`
    are two classes (said on stderr). An image that cannot be decoded is a UserError naming it (the first few, with
    reasons, and the count); with `skip_bad_images` it is left out instead, and listed in its split's `skipped`
    ("path: reason"). With `image_size` every image is fitted to that square (`fit_image`): images of several sizes
    become one data set.
    """
    files, missing = _image_files(source)
    has_splits = any(parts[0] in SPLIT_FOLDERS for parts, _ in files if len(parts) >= 2)
    by_split: dict[str, list[tuple[str, str, bytes]]] = defaultdict(list)  # (path, label, bytes)
    for parts, blob in files:
        split, below = (parts[0], parts[1:]) if has_splits else ("train", parts)
        if has_splits and split not in SPLIT_FOLDERS:
            raise UserError(f"{source}: {parts[0]}/ lies beside {', '.join(f + '/' for f in SPLIT_FOLDERS)}: move its "
                            "class folders under train/ (or test/, val/)")
        if len(below) < 2:
            raise UserError(f"{source}: {'/'.join(parts)} is in no class folder (expected "
                            f"{'SPLIT/' if has_splits else ''}CLASS/IMAGE)")
        by_split[split].append(("/".join(parts), "/".join(below[:-1]), blob))
    if not by_split.get("train"):
        raise UserError(f"{source}: no class folders with images found (expected CLASS/IMAGE or train/CLASS/IMAGE)")
    if len({label for _, label, _ in by_split["train"]}) < 2:
        raise UserError(f"{source}: train has a single class; a classifier needs at least two class folders")
    classes = sorted({label for _, label, _ in by_split["train"]})
    nested = [label for label in classes if "/" in label]
    if nested:
        print(f"dnnet: {source}: {len(nested)} class(es) are nested folders, each path its own class: "
              f"{', '.join(nested[:3])}{', ...' if len(nested) > 3 else ''}", file=sys.stderr)
    decoded = {name: _decode_all(items) for name, items in by_split.items()}
    if image_size is not None:
        decoded = {name: ([None if a is None else fit_image(a, image_size) for a in arrays], split_failures)
                   for name, (arrays, split_failures) in decoded.items()}
    for parts in missing:  # a dangling link is an image that cannot be read, counted with the others
        split = parts[0] if has_splits and parts[0] in decoded else "train"
        decoded[split][1].append(("/".join(parts), "a link to a missing file"))
    failures = [failure for _, split_failures in decoded.values() for failure in split_failures]
    if failures and not skip_bad_images:
        shown = "; ".join(f"{name} ({reason})" for name, reason in failures[:3])
        raise UserError(f"{source}: {len(failures)} image(s) cannot be read: {shown}{'; ...' if len(failures) > 3 else ''}. "
                        "Remove or replace them, or pass --skip-bad-images to train without them")
    splits = {name: _to_dataset(source, name, by_split[name], arrays, failures, classes)
              for name, (arrays, failures) in decoded.items()}
    if "test" not in splits:
        count = max(1, round(test_fraction * len(splits["train"])))
        skipped = splits["train"].skipped  # the files left out of the source, listed once (on train)
        splits["train"], splits["test"] = hold_out(splits["train"], count, seed)
        splits["train"].skipped = skipped
    return splits


def _image_files(source: Path) -> tuple[list[tuple[tuple[str, ...], bytes]], list[tuple[str, ...]]]:
    """(path parts below the root, bytes) of every image file, in a stable order, and the path parts of the links to
    images that are not there (a folder's dangling links)."""
    if source.is_dir():
        candidates = sorted(p for p in source.rglob("*") if _is_image_name(p.name) and not _hidden(p.relative_to(source).parts))
        paths = [p for p in candidates if p.is_file()]
        missing = [p.relative_to(source).parts for p in candidates if p.is_symlink() and not p.exists()]
        if sum(p.stat().st_size for p in paths) > MAX_TOTAL_IMAGE_BYTES:
            raise UserError(_TOO_LARGE.format(source=source, limit=MAX_TOTAL_IMAGE_BYTES))
        return [(p.relative_to(source).parts, _read_inside(source, p)) for p in paths], missing
    files, total = [], 0
    for name, blob in iter_files(source, wanted=lambda name: _is_image_name(PurePosixPath(name).name),
                                 max_member_bytes=MAX_IMAGE_FILE_BYTES):
        total += len(blob)
        if total > MAX_TOTAL_IMAGE_BYTES:  # everything is held in memory: refuse before it cannot be
            raise UserError(_TOO_LARGE.format(source=source, limit=MAX_TOTAL_IMAGE_BYTES))
        files.append((name, blob))
    files = [(_strip_wrapper(PurePosixPath(name).parts), blob) for name, blob in files]
    seen: set[tuple[str, ...]] = set()
    for parts, _ in files:
        if parts in seen:
            raise UserError(f"{source}: {'/'.join(parts)} is in the archive twice; keep one of the two")
        seen.add(parts)
    return sorted(file for file in files if not _hidden(file[0])), []


def _read_inside(root: Path, path: Path) -> bytes:
    """The bytes of `path`, refused (like an archive's links) when a link takes it outside `root`, or too large."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise UserError(f"{root}: {path.relative_to(root)} is a link to {path.resolve()}, outside the folder; "
                        "links out of a data folder are not followed")
    if path.stat().st_size > MAX_IMAGE_FILE_BYTES:
        raise UserError(f"{path}: {path.stat().st_size:,} bytes, more than the {MAX_IMAGE_FILE_BYTES:,} an image may have")
    return path.read_bytes()


def _is_image_name(name: str) -> bool:
    """An image suffix, and not one of the "._NAME" files in which macOS keeps NAME's metadata."""
    return Path(name).suffix.lower() in IMAGE_SUFFIXES and not name.startswith("._")


def _hidden(parts: tuple[str, ...]) -> bool:
    """Under a hidden folder (".ipynb_checkpoints/", ".git/"): not data."""
    return any(part.startswith(".") for part in parts[:-1])


def _strip_wrapper(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Drops a leading './'."""
    return parts[1:] if parts and parts[0] == "." else parts


def _decode_all(items: list[tuple[str, str, bytes]]) -> tuple[list, list[tuple[str, str]]]:
    """Every item's array (None where it failed) and the (path, reason) failures, decoded on up to 8 processes."""
    named = [(name, blob) for name, _, blob in items]
    chunks = [named[i : i + 2000] for i in range(0, len(named), 2000)]
    workers = min(8, os.cpu_count() or 1)
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(decode_images, chunks))
    else:
        results = [decode_images(chunk) for chunk in chunks]
    return [a for arrays, _ in results for a in arrays], [f for _, failures in results for f in failures]


def _to_dataset(source: Path, split: str, items: list[tuple[str, str, bytes]], arrays: list, failures: list[tuple[str, str]],
                classes: list[str]) -> ImageDataset:
    kept = [(label, array) for (_, label, _), array in zip(items, arrays) if array is not None]
    unknown = sorted({label for label, _ in kept} - set(classes))
    if unknown:
        raise UserError(f"{source}: {split} classes {unknown} do not appear in train")
    if not kept:
        raise UserError(f"{source}: no image of {split}/ can be read")
    shapes = {a.shape for _, a in kept}
    if len(shapes) != 1:
        raise UserError(f"{source}: images differ in size {sorted(shapes)[:3]}; give --image-size N (the short side "
                        "resized to N, the centre cropped) or resize them to one size first")
    images = torch.from_numpy(np.stack([a for _, a in kept]).transpose(0, 3, 1, 2).copy())
    labels = torch.tensor([classes.index(label) for label, _ in kept])
    return ImageDataset(images, labels, classes, skipped=tuple(f"{name}: {reason}" for name, reason in failures))
