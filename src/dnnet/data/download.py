"""Fetch the named data sets from their official addresses, only when asked (`--download`).

Each file is written to a temporary name, checked against its published MD5 checksum, and only
then renamed into place: an interrupted or corrupt download never looks like a finished one.
"""

from __future__ import annotations

import hashlib
import math
import os
import urllib.error
import urllib.request
from pathlib import Path

from dnnet.errors import UserError
from dnnet.utils.atomic_file import atomic_write
from dnnet.utils.progress_bar import progress

# (official URL, published MD5)
SOURCES: dict[str, list[tuple[str, str]]] = {
    "cifar10": [("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")],
    "cifar100": [("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85")],
    "svhn": [
        ("http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
        ("http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"),
    ],
}


def download_named(name: str, data_dir: Path, mirror: str | None = None) -> list[Path]:
    """Downloads every file of `name` into `data_dir` (skipping files already there and valid).

    `mirror` (or the DNNET_DATA_MIRROR variable) replaces the official folder: file names stay.
    """
    if name not in SOURCES:
        raise UserError(f"no download for {name!r}; downloadable: {', '.join(SOURCES)}")
    mirror = mirror or os.environ.get("DNNET_DATA_MIRROR")
    paths = []
    for url, md5 in SOURCES[name]:
        filename = url.rsplit("/", 1)[1]
        target = Path(data_dir) / filename
        if not (target.is_file() and file_md5(target) == md5):
            fetch(f"{mirror.rstrip('/')}/{filename}" if mirror else url, target, md5)
        paths.append(target)
    return paths


def fetch(url: str, target: Path, md5: str, timeout: float = 60.0) -> Path:
    """Streams `url` into `target` through a temporary file; raises ValueError on a bad checksum or a short read."""
    print(f"downloading {url} -> {target}", flush=True)
    try:
        return _fetch(url, target, md5, timeout)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:  # refused, not found, no network, too slow
        reason = getattr(error, "reason", None) or error
        raise UserError(f"{url}: download failed ({reason}); nothing was kept") from None


def _fetch(url: str, target: Path, md5: str, timeout: float) -> Path:
    with atomic_write(target, suffix=".part") as stream, urllib.request.urlopen(url, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        digest, size = hashlib.md5(), 0
        mebibytes = math.ceil(int(expected) / 2**20) if expected is not None and expected.isdigit() else None
        chunks = progress(iter(lambda: response.read(1 << 20), b""), target.name, total=mebibytes, unit="MiB")
        for chunk in chunks:
            stream.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        if expected is not None and size != int(expected):
            raise UserError(f"{url}: download cut short ({size} of {expected} bytes)")
        if digest.hexdigest() != md5:
            raise UserError(f"{url}: checksum mismatch (md5 {digest.hexdigest()}, expected {md5}); the file was not kept")
    return target


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
