"""A changing budget, as in the paper's Figure 1: each request gets the best cell its budget allows.

A trace is a CSV of requests, one per row: `time_s` and the budgets of that moment, either absolute
(`macs`, `memory_bytes` of peak activation memory) or as fractions of the full DNNet's
(`macs_fraction`, `memory_fraction`). Request i is answered on test image `images[i]`, by the cell
chosen on validation accuracy; a request that no cell fits gets no answer and counts as wrong.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from dnnet.accounting import CellResources
from dnnet.errors import MissingFile, UserError
from dnnet.selection import best_within


@dataclass(frozen=True)
class Request:
    time_s: float
    macs: float
    memory_bytes: float


def read_trace(path: Path, full: CellResources) -> list[Request]:
    """Requests of a trace file; fractions are of the full network `full`."""
    path = Path(path)
    if not path.is_file():
        raise MissingFile(f"trace {path} not found")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"trace {path} is not a CSV text file ({error})") from None
    if not rows:
        raise UserError(f"trace {path} has no requests")
    columns = set(rows[0])
    if {"time_s", "macs", "memory_bytes"} <= columns:
        scale = (1.0, 1.0)
        keys = ("macs", "memory_bytes")
    elif {"time_s", "macs_fraction", "memory_fraction"} <= columns:
        scale = (full.macs, full.peak_act_bytes)
        keys = ("macs_fraction", "memory_fraction")
    else:
        raise UserError(f"trace {path} needs columns time_s and macs, memory_bytes (or macs_fraction, memory_fraction); "
                         f"it has {sorted(c for c in columns if c is not None)}")
    return [Request(*(number(path, line, row, key) * factor for key, factor in zip(("time_s", *keys), (1.0, *scale))))
            for line, row in enumerate(rows, 2)]


def number(path: Path, line: int, row: dict, key: str) -> float:
    """The row's `key` as a finite number at least 0, or a UserError naming the line."""
    try:
        value = float(row[key])
    except (TypeError, ValueError):  # None: the row is shorter than the header
        raise UserError(f"trace {path}, line {line}: {key} is {row.get(key)!r}, not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise UserError(f"trace {path}, line {line}: {key} must be a finite number at least 0, got {value}")
    return value


@dataclass(frozen=True)
class Served:
    cell: CellResources | None  # None: no cell fits the request's budget
    correct: bool


def serve(requests: Sequence[Request], grid: Sequence[CellResources], val: torch.Tensor, correct: torch.Tensor,
          images: torch.Tensor) -> list[Served]:
    """Each request's chosen cell and whether it answered its image `images[i]` (see request_images);
    `correct` is (images, depths, widths) bool."""
    served, cache = [], {}
    for index, request in enumerate(requests):
        key = (request.macs, request.memory_bytes)
        if key not in cache:
            choice = best_within(val, grid, {"macs": request.macs, "peak_act_bytes": request.memory_bytes})
            cache[key] = None if choice is None else choice.cell
        cell = cache[key]
        image = int(images[index])
        served.append(Served(cell, cell is not None and bool(correct[image, cell.depth - 1, cell.width - 1])))
    return served


def summarize(requests: Sequence[Request], served: Sequence[Served]) -> dict:
    answered = [(r, s) for r, s in zip(requests, served) if s.cell is not None]
    return {"requests": len(requests), "answered": len(answered),
            "accuracy_delivered": round(sum(s.correct for s in served) / len(served), 4),
            "accuracy_of_answered": _mean([float(s.correct) for _, s in answered]),
            "macs_share_used": _mean([s.cell.macs / r.macs for r, s in answered]),
            "memory_share_used": _mean([s.cell.peak_act_bytes / r.memory_bytes for r, s in answered])}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
