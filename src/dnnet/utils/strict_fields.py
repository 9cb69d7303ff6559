"""Building a config dataclass from a dict, where an unknown key is an error, not ignored."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, TypeVar

from dnnet.errors import UserError

T = TypeVar("T")


def from_known_fields(cls: type[T], values: dict[str, Any]) -> T:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        guesses = [f"{key!r} -> {close[0]!r}" for key in unknown if (close := difflib.get_close_matches(key, known, n=1))]
        hint = f" (did you mean: {', '.join(guesses)}?)" if guesses else ""
        raise UserError(f"unknown {cls.__name__} keys {unknown}{hint}; known keys are {sorted(known)}")
    return cls(**values)
