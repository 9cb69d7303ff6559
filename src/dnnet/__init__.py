"""dnnet: doubly nested networks, anytime CNNs sliceable by depth and by width."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# name -> the module that defines it. Imported on first use (PEP 562), so that `import dnnet.cli.main` - what
# `dnnet --help` and shell completion run - does not import torch (seconds) before it knows it needs it.
_EXPORTS = {
    "CellResources": "dnnet.accounting",
    "cell_resources": "dnnet.accounting",
    "grid_resources": "dnnet.accounting",
    "NetConfig": "dnnet.config",
    "DNNet": "dnnet.models",
    "create_model": "dnnet.models",
    "list_models": "dnnet.models",
    "register_model": "dnnet.models",
    "SubNet": "dnnet.slicing",
    "load_subnet": "dnnet.slicing",
    "save_subnet": "dnnet.slicing",
    "slice_subnet": "dnnet.slicing",
}

__all__ = [
    "CellResources",
    "DNNet",
    "NetConfig",
    "SubNet",
    "cell_resources",
    "create_model",
    "grid_resources",
    "list_models",
    "load_subnet",
    "register_model",
    "save_subnet",
    "slice_subnet",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ below
    from dnnet.accounting import CellResources, cell_resources, grid_resources
    from dnnet.config import NetConfig
    from dnnet.models import DNNet, create_model, list_models, register_model
    from dnnet.slicing import SubNet, load_subnet, save_subnet, slice_subnet


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dnnet' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # once: later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
