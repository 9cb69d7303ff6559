"""Building a config dataclass from a dict, where an unknown key is an error, not ignored."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from dnnet.errors import UserError

T = TypeVar("T")


def from_known_fields(cls: type[T], values: dict[str, Any]) -> T:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown {cls.__name__} keys {unknown}; known keys are {sorted(known)}")
    return cls(**values)
