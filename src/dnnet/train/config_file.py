"""Training settings from a file: a TOML file of `TrainConfig` fields (at the top or under [train_config]), or a run's
own config.json, so that `dnnet train --config runs/x/config.json --seed 1` trains that run again with another seed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dnnet.errors import MissingFile, UserError
from dnnet.runs.train_config import TrainConfig, flat_settings, recipe_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the same parser, published separately before Python 3.11
    import tomli as tomllib


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The `TrainConfig` fields the file sets; an unknown field, or a value TrainConfig refuses, is named."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"--config {path} is a folder; give its config file (a run's config.json, or a .toml)")
    if path.exists() and not path.is_file():
        raise UserError(f"--config {path} is not a regular file (a device or a pipe?)")
    if not path.is_file():
        raise MissingFile(f"--config {path}: no such file")
    try:
        if path.suffix == ".json":
            values = json.loads(path.read_text())
        else:
            values = tomllib.loads(path.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"--config {path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {error}") from None
    if not isinstance(values, dict):
        raise UserError(f"--config {path}: expected a table of settings, got {type(values).__name__}")
    try:
        if path.suffix == ".json" and "train_config" in values:  # a run's own: as trained, defaults of its time included
            return TrainConfig.from_dict(values["train_config"]).to_dict()
        settings = dict(values.get("train_config", values))
        recipe = settings.pop("recipe", None)  # as --recipe: the named recipe's settings, under the file's own
        if recipe is not None:
            settings = {**recipe_settings(recipe, settings.get("objective", "joint")), **settings}
        check_types(settings)
        TrainConfig.from_flat(**settings)  # every key known and every value acceptable, checked now
    except UserError as error:
        raise UserError(f"--config {path}: {error}") from None
    return dict(settings)


# what a TOML value may be for each kind of field (a TOML integer is fine where a float goes; a bool is no number)
ACCEPTED = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def check_types(values: dict[str, Any]) -> None:
    """Each value of the kind its TrainConfig field declares (`epochs = 2.5` or `amp = "no"` refused by name)."""
    declared = {name: "str" if field is None else str(field.type) for name, field in flat_settings().items()}
    for name, value in values.items():
        if name not in declared:
            continue  # TrainConfig.from_flat names unknown keys, with the known ones
        kind = declared[name].removesuffix(" | None")
        wrong_bool = isinstance(value, bool) and kind != "bool"
        if wrong_bool or not isinstance(value, ACCEPTED.get(kind, (object,))):
            raise UserError(f"{name} must be {'a' if kind != 'int' else 'an'} {kind}, got {value!r}")
