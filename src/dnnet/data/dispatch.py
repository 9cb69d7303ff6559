"""Resolve a --data spec (a named data set or a path) to its reader, and into train / val / test splits in memory."""

from __future__ import annotations

import sys
from pathlib import Path

from dnnet.data.cifar_pickle import read_cifar
from dnnet.data.decoded_cache import cached_splits
from dnnet.data.digits import read_digits
from dnnet.data.image_folder import read_image_folder
from dnnet.data.image_size import check_image_size, fit_dataset
from dnnet.data.safe_archive import open_tar
from dnnet.data.splits import DataSplits, ImageDataset, hold_out
from dnnet.data.svhn_mat import SVHN_FILES, read_svhn
from dnnet.errors import MissingFile, UserError

EMBEDDED_DEFAULT = "digits"
NAMED = ("cifar10", "cifar100", "svhn", EMBEDDED_DEFAULT)
# where each named set lives under --data-dir (the official archive names)
NAMED_SOURCES = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz", "svhn": "."}
# a named set's format is known from its name: sniffing file names would take CIFAR batches kept
# in the same --data-dir for SVHN
NAMED_FORMATS = {"cifar10": "cifar", "cifar100": "cifar", "svhn": "svhn"}
READERS = {"cifar": read_cifar, "svhn": read_svhn, "image_folder": read_image_folder}
VAL_COUNTS = {"cifar10": 5000, "cifar100": 5000, "svhn": 5000, EMBEDDED_DEFAULT: 200}
NO_FLIP = {"svhn", EMBEDDED_DEFAULT}  # digits change meaning when mirrored


def load_data(
    spec: str,
    data_dir: str | Path | None = None,
    cache_dir: Path | None = None,
    val_count: int | None = None,
    seed: int = 0,
    download: bool = False,
    skip_bad_images: bool = False,
    image_size: int | None = None,
) -> DataSplits:
    """Reads `spec` - a name in `NAMED` or a path to a folder or archive - into memory.

    The validation split is an image folder's val/ when it has one, otherwise it is held out of
    the training set with `seed` (`val_count` images; by default 5,000 for the CIFARs and SVHN,
    10% of an image folder); the test set is kept for reporting only and does not depend on `seed`.
    An image folder's unreadable images are refused by name, or with `skip_bad_images` left out, counted on stderr
    and listed in `DataSplits.skipped_images`. With `image_size` every image is fitted to that square (the short side
    resized, the centre cropped: `dnnet.data.image_size.fit_image`), cached as its own entry.
    """
    check_image_size(image_size)
    if spec == EMBEDDED_DEFAULT:
        splits, name, flip = _fitted(read_digits(), image_size), spec, False
    elif spec in NAMED:
        source = named_source(spec, Path(data_dir) if data_dir else Path("data"), download)
        splits, name, flip = _read_source(source, NAMED_FORMATS[spec], cache_dir, image_size=image_size), spec, spec not in NO_FLIP
    else:
        source = Path(spec)
        if not source.exists():
            raise MissingFile(f"data {spec!r} is neither a named data set ({', '.join(NAMED)}) nor an existing path")
        if not (source.is_dir() or source.is_file()):  # a device or a pipe would be read forever
            raise UserError(f"data {spec!r} is neither a folder nor a regular file (a device or a pipe?)")
        name = source.name.removesuffix(".gz").removesuffix(".tar")
        splits, flip = _read_source(source, detect_format(source), cache_dir, skip_bad_images, image_size), True
    skipped = tuple(entry for split in splits.values() for entry in split.skipped)
    if skipped:
        print(f"dnnet: {spec}: left out {len(skipped)} image(s) that cannot be read (--skip-bad-images), "
              f"the first: {skipped[0]}", file=sys.stderr)
    train, test = splits["train"], splits["test"]
    if "val" in splits:  # an image folder's val/ is the validation split; train keeps every image
        if val_count is not None:
            raise UserError(f"{spec} has a val/ folder, which is the validation split; drop val_count={val_count}")
        return DataSplits(name, train, splits["val"], test, flip, skipped)
    count = val_count if val_count is not None else VAL_COUNTS.get(name, max(1, len(train) // 10))
    train, val = hold_out(train, count, seed)
    return DataSplits(name, train, val, test, flip, skipped)


def named_source(spec: str, data_dir: Path, download: bool) -> Path:
    source = data_dir / NAMED_SOURCES[spec]
    present = all((data_dir / f).is_file() for f in SVHN_FILES.values()) if spec == "svhn" else source.is_file()
    if not present:
        if not download:
            raise MissingFile(
                f"{spec} not found in {data_dir}/ (expected {NAMED_SOURCES[spec] if spec != 'svhn' else ', '.join(SVHN_FILES.values())}); "
                "pass --data-dir, or --download to fetch it"
            )
        from dnnet.data.download import download_named

        download_named(spec, data_dir)  # checks the published checksums before anything is read
    return data_dir if spec == "svhn" else source


def fetch_named(spec: str, data_dir: str | None) -> None:
    """--download: fetches a named data set into `data_dir` (default ./data) unless it is there already."""
    if spec not in NAMED or spec == EMBEDDED_DEFAULT:
        raise UserError(f"--download fetches cifar10, cifar100 or svhn, not {spec!r}")
    named_source(spec, Path(data_dir or "data"), download=True)


def detect_format(source: Path) -> str:
    """'cifar', 'svhn' or 'image_folder', from the file names alone."""
    names = [p.name for p in source.rglob("*")] if source.is_dir() else [Path(n).name for n in _archive_names(source)]
    if "data_batch_1" in names or ("train" in names and "meta" in names and "test" in names):
        return "cifar"
    if all(f in names for f in SVHN_FILES.values()):
        return "svhn"
    return "image_folder"


def _archive_names(source: Path) -> list[str]:
    with open_tar(source) as tar:
        try:
            return tar.getnames()
        except Exception as error:  # tarfile raises several types on a damaged stream
            raise UserError(f"{source}: truncated or corrupt archive ({error})") from error


def _read_source(source: Path, kind: str, cache_dir: Path | None, skip_bad_images: bool = False,
                 image_size: int | None = None) -> dict[str, ImageDataset]:
    sized = "" if image_size is None else f"-size{image_size}"  # a fitted copy is an entry of its own
    if kind == "image_folder":  # the only reader that decodes image by image; what it keeps depends on the flag
        return cached_splits(source, kind + ("-skip-bad" if skip_bad_images else "") + sized, cache_dir,
                             lambda: READERS[kind](source, skip_bad_images=skip_bad_images, image_size=image_size))
    return cached_splits(source, kind + sized, cache_dir, lambda: _fitted(READERS[kind](source), image_size))


def _fitted(splits: dict[str, ImageDataset], image_size: int | None) -> dict[str, ImageDataset]:
    return splits if image_size is None else {name: fit_dataset(split, image_size) for name, split in splits.items()}
