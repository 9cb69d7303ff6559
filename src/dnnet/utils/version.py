"""dnnet's version, as installed (the distribution is doubly-nested-networks: "dnnet" belongs to another project)."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "doubly-nested-networks"


def dnnet_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def torch_version() -> str:
    """torch's version without importing torch (which takes a second)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"
