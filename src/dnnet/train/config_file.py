"""Training settings from a file: a TOML file of `TrainConfig` fields (at the top or under [train_config]), or a run's
own config.json, so that `dnnet train --config runs/x/config.json --seed 1` trains that run again with another seed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dnnet.errors import MissingFile, UserError
from dnnet.strict_fields import from_known_fields
from dnnet.train.train_config import TrainConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the same parser, published separately before Python 3.11
    import tomli as tomllib


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The `TrainConfig` fields the file sets; an unknown field, or a value TrainConfig refuses, is named."""
    path = Path(path)
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
    settings = values.get("train_config", values)  # a run's config.json keeps them under "train_config"
    try:
        from_known_fields(TrainConfig, settings)  # every key known and every value acceptable, checked now
    except TypeError as error:
        raise UserError(f"--config {path}: {error}") from None
    except UserError as error:
        raise UserError(f"--config {path}: {error}") from None
    return dict(settings)
