"""A training setting as a dataclass field that carries its own help: the command line's flags, their help and the
TOML keys are generated from the fields, so that what a setting does is written once."""

from __future__ import annotations

import dataclasses
from typing import Any


def setting(default: Any, help: str, metavar: str | None = None) -> Any:
    """A field with `default`, documented by `help` (what `dnnet train --help` says before the default)."""
    return dataclasses.field(default=default, metadata={"help": help, "metavar": metavar})


def help_of(field: dataclasses.Field) -> str:
    return field.metadata.get("help", "")


def metavar_of(field: dataclasses.Field) -> str | None:
    return field.metadata.get("metavar")
