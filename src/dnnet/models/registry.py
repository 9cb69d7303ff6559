"""Named presets: small builder functions registered by name, as in timm."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable
from typing import Any

from torch import nn

from dnnet.errors import UserError

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator that makes a builder available to `create_model` under its function name;
    a second builder of the same name replaces the first, with a warning."""
    if builder.__name__ in _BUILDERS and _BUILDERS[builder.__name__] is not builder:
        warnings.warn(f"preset {builder.__name__!r} registered twice: {builder.__module__}.{builder.__qualname__} "
                      f"replaces {_BUILDERS[builder.__name__].__module__}.{_BUILDERS[builder.__name__].__qualname__}", stacklevel=2)
    _BUILDERS[builder.__name__] = builder
    return builder


def list_models(pattern: str = "*") -> list[str]:
    """The registered preset names that match the shell-style `pattern` (e.g. "dnnet_*"), sorted."""
    return sorted(name for name in _BUILDERS if fnmatch.fnmatchcase(name, pattern))


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Builds the preset `name`; keyword arguments go to the builder (e.g. num_classes=100)."""
    if name not in _BUILDERS:
        raise UserError(f"unknown preset {name!r}; known presets: {', '.join(list_models())}")
    return _BUILDERS[name](**kwargs)
