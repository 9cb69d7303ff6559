"""Choose and run a cell of a dnnet bundle with onnxruntime and numpy alone: no torch, no dnnet.

`dnnet bundle` copies this file into every bundle as select_cell.py:

    python select_cell.py BUNDLE --macs 2M [--memory 64KiB] --images images.npy

prints the chosen cell and one class name per image. In Python: `classify(bundle, images, {"macs": 2e6})`.

Budgets are written as for `dnnet select`: --macs 2M, 150K or 2.5e6 (K, M, G); --memory 64KiB, 1.5MB or 2048
(B, KB, KiB, MB, MiB, GB, GiB; any case). The most accurate cell (on validation) within every budget is chosen.

Images (a .npy array) are (N, C, H, W) with the manifest's image shape, channels first, either uint8 pixels
(0..255) or floats already in [0, 1] (pixels / 255; not divided again). Channels last (N, H, W, C) is refused
with the transpose that fixes it, and so are other dtypes and floats outside [0, 1] (0..255 floats, or images
already normalized with the mean and std, which the selector applies itself).

Nothing in the bundle is trusted: a cell's file must be a regular file inside the bundle (no absolute path, no
`..`, no link leading out), of the size and sha256 the manifest records, and it is run from the bytes checked.
A mistake is one line on stderr, with exit code 2 (bad input) or 4 (no cell fits the budgets), as `dnnet select`.
"""

# This file is copied alone into a bundle, so it repeats the few rules of dnnet it needs (the budget syntax, the
# message for a budget no cell meets); tests/test_bundle_selector.py checks that they agree with dnnet's.

from __future__ import annotations

import argparse
import hashlib
import json
import math
import numbers
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported when a cell is loaded: a missing onnxruntime is then a one-line error
    import onnxruntime

MANIFEST = "manifest.json"
FORMAT = "dnnet-bundle/1"
READ_CHUNK_BYTES = 2**20  # files are read a MiB at a time, never past their bound
MAX_MANIFEST_BYTES = 2**24  # a manifest of every cell of a 22 x 22 grid is about 1 MiB
# Every cell file, whether or not the manifest records its size (older manifests do not): protobuf cannot
# serialize a model over 2 GiB with its weights inside, and dnnet's cells keep them inside, so a larger file is
# no cell and is refused unread.
MAX_CELL_BYTES = 2**31

# cell field -> its unit in messages; what a budget can limit, in the order `dnnet select` names them
RESOURCES = {"macs": "MACs", "params": "parameters", "peak_act_bytes": "bytes of peak activation memory",
             "largest_feature_map_values": "values in the largest feature map"}


class BundleError(ValueError):
    """A bundle, a budget or images that cannot be used as given; the message says what to change, `exit_code` is
    what the command line returns (2, as `dnnet select` for bad input)."""

    exit_code = 2


class NoCellFits(BundleError):
    """No cell meets the budgets (exit 4, as `dnnet select`: a script can tell a budget to relax from a mistake)."""

    exit_code = 4


_NUMBER = r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)"
_COUNT = re.compile(_NUMBER + r"\s*([kmg]?)")
_SIZE = re.compile(_NUMBER + r"\s*((?:[kmg]i?)?b)?")
_COUNT_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_SIZE_UNITS = {None: 1.0, "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 2.0**10, "mib": 2.0**20, "gib": 2.0**30}


def parse_count(text: str, what: str = "a count") -> float:
    """'24M' -> 24e6, '150k' -> 150e3, '2.5e6' -> 2.5e6 (suffixes K, M, G in any case), as dnnet.utils.amounts.parse_count."""
    match = _COUNT.fullmatch(str(text).strip().lower())
    if match is None:
        raise BundleError(f"{what} is a number with an optional K, M or G (e.g. 24M, 150K, 2.5e6), got {text!r}")
    return _finite(float(match.group(1)) * _COUNT_SUFFIXES[match.group(2)], what, text)


def parse_size(text: str) -> float:
    """Bytes: '64KiB' -> 65536, '1.5MB' -> 1.5e6, '2048' -> 2048 (units in any case), as dnnet.utils.amounts.parse_size."""
    match = _SIZE.fullmatch(str(text).strip().lower())
    if match is None:
        raise BundleError(f"a memory size is a number with an optional unit (B, KB, KiB, MB, MiB, GB, GiB), got {text!r}")
    return _finite(float(match.group(1)) * _SIZE_UNITS[match.group(2)], "a memory size", text)


def _finite(value: float, what: str, text: str) -> float:
    if not math.isfinite(value):  # a number typed past the float range (1e999)
        raise BundleError(f"{what} must be a finite number, got {text!r}")
    return value


def inside(bundle: Path, name: Any, what: str) -> Path:
    """The real path of file `name` of the bundle; refused when it is not a relative path inside the bundle (absolute,
    with a drive, with `..`) or is a link that resolves outside it."""
    if not isinstance(name, str) or not name:
        raise BundleError(f"{what} must be a file name inside the bundle, got {name!r:.80}")
    windows = PureWindowsPath(name)  # splits at both '/' and '\\' and knows drives: the same refusals on every system
    if PurePosixPath(name).is_absolute() or windows.anchor or ".." in windows.parts:
        raise BundleError(f"{what} {name!r:.80} is not inside the bundle: files are named relative to it, without '..'")
    try:
        root = bundle.resolve(strict=True)
        path = (root / name).resolve()
    except (OSError, RuntimeError, ValueError) as error:  # a loop of links (RuntimeError before Python 3.13); a NUL in the name
        raise BundleError(f"{what} {name!r:.80}: {error}") from None
    if not path.is_relative_to(root):
        raise BundleError(f"{what} {name!r:.80} is a link to {path}, outside the bundle")
    return path


def read_bounded(path: Path, size: int | None, limit: int, what: str) -> bytes:
    """The bytes of regular file `path`: `size` of them when the manifest records a size, at most `limit` in any case.
    A FIFO or a device (/dev/zero), a directory, or a file of another size is refused before anything is read."""
    # O_NONBLOCK: a FIFO opens at once (to be refused) instead of waiting for a writer; O_NOFOLLOW: `path` is resolved,
    # so a link found there now was put there since; O_BINARY: Windows would otherwise translate line ends
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise BundleError(f"{what} {path}: {error.strerror}") from None
    try:
        found = os.fstat(descriptor)  # of the file opened, not of whatever the name points to by now
        if not stat.S_ISREG(found.st_mode):
            raise BundleError(f"{what} {path} is not a regular file")
        if size is not None and found.st_size != size:
            raise BundleError(f"{what} {path} is {found.st_size} bytes, {MANIFEST} records {size}: the bundle was changed or damaged")
        if found.st_size > limit:
            raise BundleError(f"{what} {path} is {found.st_size} bytes, over the {limit} such a file can hold")
        chunks, total = [], 0
        while total <= found.st_size and (chunk := os.read(descriptor, READ_CHUNK_BYTES)):  # ends a chunk past a file that grows
            chunks.append(chunk)
            total += len(chunk)
    except OSError as error:
        raise BundleError(f"{what} {path}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if total != found.st_size:
        raise BundleError(f"{what} {path} changed size while it was read")
    return b"".join(chunks)


def read_manifest(bundle: str | Path) -> dict[str, Any]:
    """The manifest of `bundle`, checked field by field (the selector reads only checked fields): its format,
    the preprocessing, and a non-empty list of cells, each with its name, file, sha256, accuracy and resources."""
    if not Path(bundle).is_dir():
        raise BundleError(f"{bundle} is not a folder; a bundle is the folder `dnnet bundle --out` wrote")
    path = inside(Path(bundle), MANIFEST, "the manifest")
    text = read_bounded(path, None, MAX_MANIFEST_BYTES, "the manifest")
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested past the parser's depth
        raise BundleError(f"{path} is not valid JSON: {str(error)[:200]}") from None
    if _field(manifest, "format", "the manifest", _is_text, "a string") != FORMAT:
        raise BundleError(f"{path} is format {manifest['format']!r:.40}; this select_cell.py reads {FORMAT}")
    _check_preprocessing(_field(manifest, "preprocessing", "the manifest", lambda v: isinstance(v, dict), "an object"))
    cells = _field(manifest, "cells", "the manifest", lambda v: isinstance(v, list) and v, "a non-empty list")
    for index, cell in enumerate(cells):
        where = f"cells[{index}]"
        _field(cell, "cell", where, _is_text, "a string")
        _field(cell, "file", where, _is_text, "a string")
        _field(cell, "sha256", where, lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v), "64 hex digits")
        _field(cell, "val_accuracy", where, _is_number, "a number")
        for name in RESOURCES:
            _field(cell, name, where, lambda v: _is_number(v) and v >= 0, "a number >= 0")
        if "bytes" in cell:  # written since the selector checks sizes; an older manifest is bounded by MAX_CELL_BYTES
            _field(cell, "bytes", where, lambda v: _is_number(v) and isinstance(v, int) and v >= 0, "a whole number >= 0")
    return manifest


def _check_preprocessing(preprocessing: dict[str, Any]) -> None:
    where = "the preprocessing"
    shape = _field(preprocessing, "image_shape", where,
                   lambda v: isinstance(v, list) and len(v) == 3 and all(_is_number(n) and isinstance(n, int) and n > 0 for n in v),
                   "three positive whole numbers (C, H, W)")
    channels = f"a list of {shape[0]} numbers, one per channel"
    _field(preprocessing, "mean", where, lambda v: isinstance(v, list) and len(v) == shape[0] and all(map(_is_number, v)), channels)
    _field(preprocessing, "std", where, lambda v: isinstance(v, list) and len(v) == shape[0] and all(_is_number(s) and s > 0 for s in v),
           f"{channels}, each above 0")
    _field(preprocessing, "classes", where, lambda v: isinstance(v, list) and v and all(map(_is_text, v)), "a non-empty list of names")


def _field(record: Any, key: str, where: str, valid: Callable[[Any], Any], expected: str) -> Any:
    """record[key] when `valid` holds for it; else the error that says what the manifest should hold there."""
    if not isinstance(record, dict):
        raise BundleError(f"{MANIFEST}: {where} must be an object, got {record!r:.80}")
    if key not in record:
        raise BundleError(f"{MANIFEST}: {where} has no {key!r}")
    if not valid(record[key]):
        raise BundleError(f"{MANIFEST}: {key!r} of {where} must be {expected}, got {record[key]!r:.80}")
    return record[key]


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    """A finite int or float; not a bool, a string, NaN or infinity (json reads NaN and Infinity)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or math.isfinite(value)  # an int of 400 digits is finite, not a float


def check_limits(limits: Any) -> None:
    """Refuses a budget that limits no known resource, or whose limit is not a positive number (NaN, '2M', -1)."""
    if not isinstance(limits, dict):
        raise BundleError(f"limits must be a dict of resource -> limit, got {limits!r:.80}")
    for name, limit in limits.items():
        if name not in RESOURCES:
            raise BundleError(f"unknown resource {name!r}; budgets limit {sorted(RESOURCES)}")
        if not (isinstance(limit, numbers.Real) and not isinstance(limit, bool) and limit > 0):  # NaN > 0 is False
            raise BundleError(f"a budget must be positive, got {name} <= {limit!r}")


def choose(manifest: dict[str, Any], limits: dict[str, float]) -> dict[str, Any]:
    """The cell with the best validation accuracy whose every limited resource ("macs", "peak_act_bytes", ...) is
    within its limit; NoCellFits, with the message of `dnnet select`, when none is."""
    check_limits(limits)
    cells = manifest["cells"]
    fitting = [cell for cell in cells if all(cell[name] <= limit for name, limit in limits.items())]
    if not fitting:
        raise NoCellFits(explain_no_fit(cells, limits))
    return max(fitting, key=lambda cell: cell["val_accuracy"])


def explain_no_fit(cells: list[dict[str, Any]], limits: dict[str, float]) -> str:
    """One line: which limit rules out every cell (or that only their combination does), and what the cheapest cell
    needs; word for word what dnnet.selection.explain_infeasible says."""
    cheapest = min(cells, key=lambda cell: cell["macs"])
    figures = ", ".join(f"{cheapest[name]:,} {unit}" for name, unit in RESOURCES.items())
    ruling_out = [name for name, limit in limits.items() if all(cell[name] > limit for cell in cells)]
    if ruling_out:
        name = ruling_out[0]
        least = min(cell[name] for cell in cells)
        reason = f"{RESOURCES[name]} <= {limits[name]:,.0f} rules out every cell (the least any cell needs is {least:,})"
    else:
        reason = "each budget alone leaves some cells, but no cell meets all of them together"
    return f"no cell fits: {reason}; the cheapest cell, {cheapest['cell']}, needs {figures}"


def load_cell(bundle: str | Path, cell: dict[str, Any]) -> onnxruntime.InferenceSession:
    """An onnxruntime session of `cell`, made from the very bytes checked against the manifest's size and sha256."""
    try:
        import onnxruntime
    except ImportError:
        raise BundleError("select_cell.py needs onnxruntime: pip install onnxruntime") from None
    path = inside(Path(bundle), cell["file"], f"the file of cell {cell['cell']}")
    model = read_bounded(path, cell.get("bytes"), MAX_CELL_BYTES, "cell file")
    if hashlib.sha256(model).hexdigest() != cell["sha256"]:
        raise BundleError(f"{path} does not match its sha256 in {MANIFEST}: the bundle was changed or damaged")
    options = onnxruntime.SessionOptions()
    # A model read from bytes would look for weights stored beside it (ONNX external data) in the working directory;
    # this points that search at the bundle, where onnxruntime refuses a path that leads out (dnnet's cells use none).
    options.add_session_config_entry("session.model_external_initializers_file_folder_path", str(Path(bundle).resolve()))
    try:
        return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's errors share no base class closer than Exception
        raise BundleError(f"{path} is not a model onnxruntime can load: {_first_line(error)}") from None


def pixels(images: Any, image_shape: list[int]) -> np.ndarray:
    """float32 pixels in [0, 1] of a batch (N, C, H, W) of the manifest's image shape: uint8 divided by 255, floats
    already in [0, 1] as they are. Refused: channels last (with the transpose), another shape or dtype, floats
    outside [0, 1]."""
    if not isinstance(images, np.ndarray):
        raise BundleError(f"images must be a numpy array, got {type(images).__name__}")
    channels, height, width = image_shape
    wanted = f"(N, {channels}, {height}, {width})"
    channels_last = (height, width, channels)
    if images.ndim == 4 and images.shape[1:] == channels_last and channels_last != (channels, height, width):
        raise BundleError(f"images are channels last, {images.shape}; the cells take {wanted}: use images.transpose(0, 3, 1, 2)")
    if images.ndim != 4 or images.shape[1:] != (channels, height, width) or len(images) == 0:
        raise BundleError(f"images must be a batch {wanted} with N >= 1, got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    if images.dtype.kind != "f":
        raise BundleError(f"images must be uint8 (0..255) or float in [0, 1], got {images.dtype}")
    if not np.all((images >= 0) & (images <= 1)):  # False for NaN too
        raise BundleError(f"float images must be pixels / 255, in [0, 1] (the selector applies the mean and std itself); "
                          f"got values from {images.min():g} to {images.max():g}")
    return images.astype(np.float32)


def normalize(images: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """float32 network input, as the network was trained: pixels in [0, 1] (see `pixels`), then (x - mean) / std per channel."""
    mean = np.asarray(preprocessing["mean"], np.float32)[:, None, None]
    std = np.asarray(preprocessing["std"], np.float32)[:, None, None]
    return ((pixels(images, preprocessing["image_shape"]) - mean) / std).astype(np.float32)


def classify(bundle: str | Path, images: np.ndarray, limits: dict[str, float]) -> tuple[dict[str, Any], np.ndarray]:
    """(the chosen cell's manifest entry, the class index of each image) for images (N, C, H, W), uint8 or float in
    [0, 1], under `limits` (resource -> most allowed, e.g. {"macs": 2e6, "peak_act_bytes": 65536}).

    Raises BundleError (exit_code 2) for a bad bundle, budget or images, NoCellFits (exit_code 4) when no cell fits;
    the input is checked before a cell is chosen, so bad input is exit 2 even under a budget no cell meets."""
    manifest = read_manifest(bundle)
    check_limits(limits)
    inputs = normalize(images, manifest["preprocessing"])
    cell = choose(manifest, limits)
    session = load_cell(bundle, cell)
    try:
        (logits, *_) = session.run(None, {session.get_inputs()[0].name: inputs})
    except Exception as error:  # a model that is not the network the manifest describes
        raise BundleError(f"cell {cell['cell']} cannot take images {inputs.shape}: {_first_line(error)}") from None
    classes = manifest["preprocessing"]["classes"]
    if logits.ndim != 2 or logits.shape[1] != len(classes):
        raise BundleError(f"cell {cell['cell']} gives scores of shape {logits.shape} for {len(inputs)} images, but {MANIFEST} "
                          f"names {len(classes)} classes")
    return cell, logits.argmax(1)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's hook for usage errors; it would print the usage first
        self.exit(2, f"{self.prog}: error: {message} (--help shows the options)\n")


def main(argv: list[str] | None = None) -> int:
    """The command line: prints the chosen cell and the images' classes; a mistake is one line and exit 2 or 4."""
    parser = _OneLineParser(prog="select_cell.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path, help="the bundle's folder (with manifest.json)")
    parser.add_argument("--macs", default=None, help="most multiply-accumulates per image, e.g. 2M, 150K, 2.5e6")
    parser.add_argument("--memory", default=None, help="most peak activation memory of a batch-1 pass, e.g. 64KiB, 1.5MB")
    parser.add_argument("--images", type=Path, required=True,
                        help=".npy of images (N, C, H, W): uint8 0..255, or float already in [0, 1] (channels last is refused)")
    args = parser.parse_args(argv)
    try:
        classes = read_manifest(args.bundle)["preprocessing"]["classes"]  # a wrong bundle is named before the rest
        limits = {}
        if args.macs is not None:
            limits["macs"] = parse_count(args.macs, "a MAC budget")
        if args.memory is not None:
            limits["peak_act_bytes"] = parse_size(args.memory)
        cell, labels = classify(args.bundle, read_images(args.images), limits)
    except BundleError as error:
        print(f"{parser.prog}: error: {' '.join(str(error).split())}", file=sys.stderr)  # one line, whatever it quotes
        return error.exit_code
    print(f"cell {cell['cell']} ({cell['macs']:g} MACs, validation accuracy {100 * cell['val_accuracy']:.2f}%)")
    print(" ".join(classes[i] for i in labels))
    return 0


def read_images(path: Path) -> np.ndarray:
    """The array in .npy file `path` (no pickled objects)."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # missing, not .npy, pickled, or cut short
        raise BundleError(f"cannot read images from {path}: {_first_line(error)}") from None


if __name__ == "__main__":
    sys.exit(main())
