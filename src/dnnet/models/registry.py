"""Named presets: small builder functions registered by name, as in timm."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import inspect
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from dnnet.config import NetConfig
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


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """The registered preset names that match the shell-style `pattern` (e.g. "dnnet_*"), sorted; with `pretrained`,
    only those whose trained weights ship with dnnet (`create_model(name, pretrained=True)`)."""
    from dnnet.models.shipped_weights import SHIPPED

    return sorted(name for name in _BUILDERS if fnmatch.fnmatchcase(name, pattern) and (not pretrained or name in SHIPPED))


def accepted_arguments(name: str) -> list[str]:
    """The keyword arguments preset `name` takes: its builder's own and the architecture's (`NetConfig`'s fields)
    that the builder leaves open (a field it sets itself, e.g. blocks_per_stage, is refused as a second value)."""
    builder = _BUILDERS[name]
    own = [p.name for p in inspect.signature(builder).parameters.values() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    built = builder().config
    return sorted({*own, *(field.name for field in dataclasses.fields(NetConfig) if _leaves_open(builder, field.name, built))})


def _leaves_open(builder: Callable[..., nn.Module], field: str, built: NetConfig) -> bool:
    try:
        builder(**{field: getattr(built, field)})
    except TypeError:  # "got multiple values for keyword argument": the builder sets it
        return False
    return True


def _build(name: str, kwargs: dict[str, Any]) -> nn.Module:
    """The preset built with `kwargs`; an argument it does not take is a UserError naming the ones it does."""
    try:
        return _BUILDERS[name](**kwargs)
    except TypeError as error:
        if "keyword argument" not in str(error):  # not an argument the builder or NetConfig refused
            raise
    accepted = accepted_arguments(name)
    refused = sorted(set(kwargs) - set(accepted))
    hints = [f"{word}: did you mean {close[0]}?" for word in refused
             if (close := difflib.get_close_matches(word, accepted, n=1, cutoff=0.6))]
    raise UserError(f"create_model({name!r}) does not take {', '.join(refused)}" + (f" ({'; '.join(hints)})" if hints else "")
                    + f"; it takes: {', '.join(accepted)}")


# what a preset fixes; the data decides the rest (classes, image shape) and the training whether cells have own heads
DATA_AND_TRAINING_FIELDS = ("num_classes", "in_channels", "image_size", "cell_heads", "width_conditioning")


def create_model(name: str, pretrained: bool | str | Path = False, **kwargs: Any) -> nn.Module:
    """Builds the preset `name`; keyword arguments go to the builder (e.g. num_classes=100).

    `pretrained=True`: with the weights shipped for `name` (see `dnnet.models.shipped_weights`); a path: with the
    weights of a folder that `save_pretrained` or `dnnet pretrained` wrote, which must hold this preset's network.
    Either is in eval mode; `model.reset_classifier(n)` adapts it to another number of classes.
    """
    if name not in _BUILDERS:
        raise UserError(f"unknown preset {name!r}; known presets: {', '.join(list_models())}")
    if pretrained is False:
        return _build(name, kwargs)
    if kwargs:
        raise UserError(f"pretrained weights fix the architecture; drop {', '.join(sorted(kwargs))} "
                        "(model.reset_classifier(n) changes the number of classes)")
    from dnnet.models.dnnet import DNNet
    from dnnet.models.shipped_weights import shipped_weights_folder

    folder = shipped_weights_folder(name) if pretrained is True else Path(pretrained)
    model = DNNet.from_pretrained(folder)
    preset = _BUILDERS[name]().config
    if dataclasses.replace(model.config, **{f: getattr(preset, f) for f in DATA_AND_TRAINING_FIELDS}) != preset:
        raise UserError(f"{folder} holds another architecture than the preset {name!r} (groups {model.config.groups}, "
                        f"{model.config.num_exits} exits)")
    return model
