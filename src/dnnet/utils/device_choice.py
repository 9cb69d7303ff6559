"""The torch device a command runs on: the one asked for, checked before any work, or a GPU when there is one."""

from __future__ import annotations

import torch

from dnnet.errors import UserError


def chosen_device(requested: str | None) -> torch.device:
    """`requested` ("cpu", "cuda", "cuda:1", "mps") if this machine has it, else a UserError saying why; None: cuda if
    available, else cpu."""
    if requested is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError):
        raise UserError(f"--device {requested!r} is not a device: use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {requested}: this torch build has no CUDA, or no GPU is visible (torch {torch.__version__})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"--device {requested}: this machine has {torch.cuda.device_count()} GPU(s), numbered from 0")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"--device {requested}: this machine or torch build has no MPS (Apple GPU) support")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"--device {requested}: dnnet runs on cpu, cuda or mps")
    return device


def physical_memory_bytes() -> int | None:
    """This machine's memory, for refusing work that could not fit it (None where the platform does not say)."""
    import os

    if not hasattr(os, "sysconf"):
        return None
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
