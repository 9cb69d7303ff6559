"""Counts and sizes as people type them, read and printed the same way: 24M MACs, 150K parameters, 64KiB of memory,
and a MAC budget as a share of the full network (25%)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from dnnet.errors import UserError

_NUMBER = r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)"
_COUNT = re.compile(_NUMBER + r"\s*([kmg]?)")
_SIZE = re.compile(_NUMBER + r"\s*((?:[kmg]i?)?b)?")
COUNT_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
SIZE_UNITS = {None: 1.0, "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 2.0**10, "mib": 2.0**20, "gib": 2.0**30}


def parse_count(text: str, what: str = "a count") -> float:
    """'24M' -> 24e6, '150k' -> 150e3, '2.5e6' -> 2.5e6 (suffixes K, M, G in any case)."""
    match = _COUNT.fullmatch(str(text).strip().lower())
    if match is None:
        raise UserError(f"{what} is a number with an optional K, M or G (e.g. 24M, 150K, 2.5e6), got {text!r}")
    return _finite(float(match.group(1)) * COUNT_SUFFIXES[match.group(2)], what, text)


def parse_size(text: str) -> float:
    """Bytes: '64KiB' -> 65536, '1.5MB' -> 1.5e6, '2048' -> 2048 (units in any case)."""
    match = _SIZE.fullmatch(str(text).strip().lower())
    if match is None:
        raise UserError(f"a memory size is a number with an optional unit (B, KB, KiB, MB, MiB, GB, GiB), got {text!r}")
    return _finite(float(match.group(1)) * SIZE_UNITS[match.group(2)], "a memory size", text)


def parse_milliseconds(text: str) -> float:
    """A time limit in milliseconds: a positive, finite number ('2', '0.5')."""
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"a time in milliseconds is a positive number, e.g. 2 or 0.5, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"a time in milliseconds is a positive number, e.g. 2 or 0.5, got {text!r}")
    return value


def _finite(value: float, what: str, text: str) -> float:
    """`value`, unless the number typed overflows to infinity (1e999)."""
    if not math.isfinite(value):
        raise UserError(f"{what} must be a finite number, got {text!r}")
    return value


def format_count(value: float) -> str:
    """18_300_000 -> '18.3M', 150_000 -> '150K', 812 -> '812': three significant digits, read back by `parse_count`."""
    return _with_unit(value, (("G", 1e9), ("M", 1e6), ("K", 1e3), ("", 1.0)))


def format_size(value: float) -> str:
    """65536 -> '64KiB', 3_145_728 -> '3MiB', 100 -> '100B': binary units, read back by `parse_size`."""
    return _with_unit(value, (("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0)))


def _with_unit(value: float, units: tuple[tuple[str, float], ...]) -> str:
    """In the largest unit that leaves at least 1 after rounding to three significant digits (999,950 -> '1M', not
    '1e+03K'); the last, smallest unit takes whatever is left."""
    for unit, scale in units:
        rounded = float(f"{value / scale:.3g}")
        if abs(rounded) >= 1 or unit == units[-1][0]:
            return f"{rounded:g}{unit}"
    raise ValueError("units must not be empty")


@dataclass(frozen=True)
class MacsBudget:
    """A MAC budget, absolute ('24M') or a share of the full network's MACs ('25%')."""

    amount: float
    share: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.amount) and self.amount > 0) or (self.share and self.amount > 1):
            raise UserError(f"a MAC budget must be positive{' and at most 100%' if self.share else ''}, got {self}")

    def macs(self, full_macs: float) -> float:
        """The budget in MACs, for a network whose full cell needs `full_macs`."""
        return self.amount * full_macs if self.share else self.amount

    def __str__(self) -> str:
        return f"{100 * self.amount:g}%" if self.share else format_count(self.amount)


EXAMPLE_BUDGET = MacsBudget(0.25, share=True)  # what the demo and a run's report show when not told
PAPER_BUDGET = MacsBudget(24e6)  # the paper's Figure 3 and 5 budget for its ResNet-32


def parse_macs_budget(text: str) -> MacsBudget:
    """'24M' -> 24e6 MACs; '25%' -> a quarter of the full network's."""
    text = str(text).strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100
        except ValueError:
            raise UserError(f"a share of the full network's MACs is a percentage, e.g. 25%, got {text!r}") from None
        return MacsBudget(share, share=True)
    return MacsBudget(parse_count(text, "a MAC budget"))


SEED_LIMIT = 2**63  # torch's generators take a signed 64-bit seed


def parse_seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2**63 - 1."""
    try:
        seed = int(text)
    except ValueError:
        raise UserError(f"a seed is a whole number from 0 to 2**63 - 1, got {text!r}") from None
    return check_seed(seed)


def check_seed(seed: int) -> int:
    if not 0 <= seed < SEED_LIMIT:
        raise UserError(f"a seed is a whole number from 0 to 2**63 - 1, got {seed}")
    return seed


MAX_IMAGE_SIZE = 1024  # pixels per side of `--image-size`: the data sets are held in memory whole


def parse_image_size(text: str) -> int:
    """`224` -> 224: a square image side in pixels, from 8 to MAX_IMAGE_SIZE."""
    size = int(text) if text.strip().isdigit() else text
    check_image_size(size)
    return size


def check_image_size(size: int | None) -> None:
    """`--image-size`: None (images as read), or an integer number of pixels from 8 to MAX_IMAGE_SIZE."""
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= MAX_IMAGE_SIZE):
        raise UserError(f"image_size must be an integer from 8 to {MAX_IMAGE_SIZE} pixels, got {size!r}")
