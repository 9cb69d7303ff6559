"""Building a config dataclass from a dict, where an unknown key is an error, not ignored."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any, TypeVar

from dnnet.errors import UserError

T = TypeVar("T")


def check_known_keys(kind: str, values: dict[str, Any], known: Iterable[str]) -> None:
    """A UserError naming the keys of `values` that are not among `known`, with the nearest known key for each typo."""
    known = set(known)
    unknown = sorted(set(values) - known)
    if unknown:
        guesses = [f"{key!r} -> {close[0]!r}" for key in unknown if (close := difflib.get_close_matches(key, known, n=1))]
        hint = f" (did you mean: {', '.join(guesses)}?)" if guesses else ""
        raise UserError(f"unknown {kind} keys {unknown}{hint}; known keys are {sorted(known)}")


def from_known_fields(cls: type[T], values: dict[str, Any]) -> T:
    check_known_keys(cls.__name__, values, (f.name for f in dataclasses.fields(cls)))
    return cls(**values)
