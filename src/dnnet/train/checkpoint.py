"""Checkpoints written atomically and read without running code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dnnet.atomic_file import atomic_write


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Temporary file, flush, fsync, rename: a kill at any moment leaves the previous file intact."""
    with atomic_write(path) as stream:
        torch.save(state, stream)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Loads with `weights_only=True`: a checkpoint that would run code when loaded is refused."""
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # pickle errors and the weights-only refusal come in several types
        raise ValueError(f"{path}: refused to load checkpoint ({str(error).splitlines()[0]})") from error
