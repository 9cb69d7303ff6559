"""Weights from a file nobody vouches for: the safetensors header is read and checked against the network that
config.json describes before a single layer is built, and the values are checked once loaded.

A folder's config.json could describe a network of billions of parameters in 600 bytes; building it first would
exhaust the machine. Here the network is built on torch's meta device (shapes only, no memory) once its number of
blocks is known to be bounded by the file's own tensors, and its every tensor is compared with the header, whose
sizes are bounded by the file's size. Only then is the network built for real and loaded.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.errors import UserError

HEADER_LIMIT_BYTES = 100 * 2**20  # a header larger than this is not one dnnet wrote (tens of KB for the paper's network)
FLOAT_TYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}
INTEGER_TYPES = {"I8", "I16", "I32", "I64", "U8"}
BYTES_PER_ELEMENT = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I8": 1, "I16": 2, "I32": 4, "I64": 8, "U8": 1, "BOOL": 1}


def read_header(path: Path) -> dict[str, dict]:
    """name -> {"dtype", "shape"} of a safetensors file, each entry's data checked to lie inside the file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            length = int.from_bytes(stream.read(8), "little")
            if not 0 < length <= min(size - 8, HEADER_LIMIT_BYTES):
                raise UserError(f"{path}: not a safetensors file (a header of {length} bytes in a file of {size})")
            header = json.loads(stream.read(length))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UserError(f"{path}: not a safetensors file (its header is not JSON: {type(error).__name__})") from None
    if not isinstance(header, dict):
        raise UserError(f"{path}: not a safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    data_bytes = size - 8 - length
    for name, entry in header.items():
        _check_entry(path, name, entry, data_bytes)
    return header


def _check_entry(path: Path, name: str, entry: object, data_bytes: int) -> None:
    """One tensor's header entry: a known dtype, a shape of non-negative integers, and data inside the file that
    holds exactly that many elements."""
    if not isinstance(entry, dict) or entry.get("dtype") not in BYTES_PER_ELEMENT:
        raise UserError(f"{path}: tensor {name!r} has no dtype dnnet reads")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise UserError(f"{path}: tensor {name!r} has no valid shape")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_bytes):
        raise UserError(f"{path}: tensor {name!r} points outside the file")
    if (offsets[1] - offsets[0]) != math.prod(shape) * BYTES_PER_ELEMENT[entry["dtype"]]:
        raise UserError(f"{path}: tensor {name!r} holds {offsets[1] - offsets[0]} bytes, not its shape's")


def check_before_building(build: Callable[[], nn.Module], config: NetConfig, path: Path) -> dict[str, dict]:
    """Checks the weights file at `path` against the network `build()` makes from `config` without allocating it;
    returns the header. A mismatch is one UserError naming the file."""
    header = read_header(path)
    check_header_fits(build, config, header, path)
    return header


DTYPE_NAMES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64", torch.int8: "I8",
               torch.int16: "I16", torch.int32: "I32", torch.int64: "I64", torch.uint8: "U8", torch.bool: "BOOL"}


def header_of_state(state: dict[str, torch.Tensor], path: Path) -> dict[str, dict]:
    """A loaded state dict (a run's checkpoint) described as a safetensors header is: name -> {"dtype", "shape"}."""
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise UserError(f"{path} holds no weights dnnet wrote (its state is not a table of tensors)")
    unknown = sorted({str(t.dtype) for t in state.values() if t.dtype not in DTYPE_NAMES})
    if unknown:
        raise UserError(f"{path} holds tensors of a type dnnet does not write ({', '.join(unknown)})")
    return {name: {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)} for name, t in state.items()}


def check_header_fits(build: Callable[[], nn.Module], config: NetConfig, header: dict[str, dict], path: Path) -> None:
    """The tensors `header` describes against the network `build()` makes from `config`, without allocating it."""
    elements = sum(math.prod(entry["shape"]) for entry in header.values())
    if config.num_blocks > len(header):  # every block holds several tensors: such a config cannot be the file's
        raise UserError(f"{path} holds {len(header)} tensors, too few for a network of {config.num_blocks} blocks: the "
                        "config.json beside it does not describe these weights")
    # the widest layer's channels, the classes and the stem's inputs each need at least that many weights in the file
    needed = {"channels": max(config.stage_channels), "classes": config.num_classes,
              "input channels": config.in_channels * config.groups * config.group_channels[0]}
    for what, count in needed.items():
        if count > elements:
            raise UserError(f"{path} holds {elements:,} values, too few for {count:,} {what}: the config.json beside it "
                            "does not describe these weights")
    try:
        with torch.device("meta"):
            skeleton = build()
    except RuntimeError as error:  # a shape too large for torch to describe at all
        raise UserError(f"{path}: the network in config.json cannot be built ({str(error).splitlines()[0]})") from None
    expected = skeleton.state_dict()
    missing, unexpected = sorted(set(expected) - set(header)), sorted(set(header) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise UserError(f"{path} does not fit the network in config.json ({detail})")
    for name, tensor in expected.items():
        entry = header[name]
        if tuple(entry["shape"]) != tuple(tensor.shape):
            raise UserError(f"{path} does not fit the network in config.json ({name}: shape {tuple(entry['shape'])} in the "
                            f"file, {tuple(tensor.shape)} in the network)")
        if tensor.is_floating_point() and entry["dtype"] not in FLOAT_TYPES:
            raise UserError(f"{path}: {name} holds {entry['dtype']} values where the network has floating-point weights")
        if not tensor.is_floating_point() and entry["dtype"] not in INTEGER_TYPES:
            raise UserError(f"{path}: {name} holds {entry['dtype']} values where the network counts with integers")
    cast = sorted({entry["dtype"] for entry in header.values() if entry["dtype"] in FLOAT_TYPES and entry["dtype"] != "F32"})
    if cast:
        warnings.warn(f"{path}: {', '.join(cast)} weights are cast to float32", stacklevel=3)


def check_finite(model: nn.Module, path: Path) -> None:
    """Refuses weights or statistics that are NaN or infinite (they would give a network that answers at chance)."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise UserError(f"{path}: {name} holds NaN or infinite values")
