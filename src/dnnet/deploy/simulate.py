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

MAX_TRACE_REQUESTS = 1_000_000  # read in about 6 s and 160 MiB on this project's CPU; longer traces are split


@dataclass(frozen=True, slots=True)
class Request:
    time_s: float
    macs: float
    memory_bytes: float


def read_trace(path: Path, full: CellResources, max_requests: int = MAX_TRACE_REQUESTS) -> list[Request]:
    """Requests of a trace file, read row by row; fractions are of the full network `full`. Times must not go back,
    a row may not hold more values than the header names, and a trace beyond `max_requests` is refused when its row
    is reached (every request is served and drawn: a bound on the time and memory a command takes)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise UserError(f"trace {path} is not a regular file (a folder, a device or a pipe?)")
    if not path.is_file():
        raise MissingFile(f"trace {path} not found")
    requests: list[Request] = []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = csv.DictReader(handle)
            scale, keys = _trace_columns(path, rows.fieldnames or [], full)
            for line, row in enumerate(rows, 2):
                if None in row:  # DictReader's key for values beyond the header's columns
                    raise UserError(f"trace {path}, line {line}: {len(row) - 1 + len(row[None])} values for "
                                    f"{len(row) - 1} columns")
                if len(requests) == max_requests:
                    raise UserError(f"trace {path} holds more than {max_requests:,} requests; split it into shorter traces")
                request = Request(*(number(path, line, row, key) * factor for key, factor in zip(("time_s", *keys), (1.0, *scale))))
                if requests and request.time_s < requests[-1].time_s:
                    raise UserError(f"trace {path}, line {line}: time_s goes back ({request.time_s} after "
                                    f"{requests[-1].time_s}); the rows are requests in the order they arrive")
                requests.append(request)
    except (UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"trace {path} is not a CSV text file ({error})") from None
    if not requests:
        raise UserError(f"trace {path} has no requests")
    return requests


def _trace_columns(path: Path, columns: Sequence[str], full: CellResources) -> tuple[tuple[float, float], tuple[str, str]]:
    """How a trace with these header columns gives its budgets: (scale of each, its column)."""
    if {"time_s", "macs", "memory_bytes"} <= set(columns):
        return (1.0, 1.0), ("macs", "memory_bytes")
    if {"time_s", "macs_fraction", "memory_fraction"} <= set(columns):
        return (full.macs, full.peak_act_bytes), ("macs_fraction", "memory_fraction")
    if not columns:
        raise UserError(f"trace {path} has no requests")
    raise UserError(f"trace {path} needs columns time_s and macs, memory_bytes (or macs_fraction, memory_fraction); "
                    f"it has {sorted(c for c in columns if c is not None)}")


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
