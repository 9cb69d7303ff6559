"""The weights lambda(l, c) of the joint loss over the depth x width grid."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dnnet.accounting import grid_resources
from dnnet.config import NetConfig
from dnnet.errors import UserError

WEIGHTINGS = ("uniform", "macs", "final", "depth_only", "half_final")


def cell_weights(config: NetConfig, weighting: str = "uniform", table: Sequence[Sequence[float]] | None = None) -> torch.Tensor:
    """Returns lambda as a (depths, widths) float tensor.

    uniform: every cell 1 (the paper's default); macs: proportional to the cell's needed MACs;
    final: the full network only (plain training); depth_only: full width at every exit (the
    depth-only anytime network); half_final: every cell 1 and the full network as much as all the others
    together, so that it keeps half of the loss; a `table` of shape (depths, widths) overrides `weighting`.
    """
    shape = (config.num_exits, config.groups)
    if table is not None:
        return _check_table(torch.as_tensor(table, dtype=torch.float32), shape)
    if weighting == "uniform":
        return torch.ones(shape)
    if weighting == "macs":
        macs = torch.tensor([cell.macs for cell in grid_resources(config)], dtype=torch.float64)
        return (macs / macs.max()).float().reshape(shape)
    if weighting == "final":
        weights = torch.zeros(shape)
        weights[-1, -1] = 1.0
        return weights
    if weighting == "half_final":
        weights = torch.ones(shape)
        weights[-1, -1] = weights.numel() - 1.0
        return weights
    if weighting == "depth_only":
        weights = torch.zeros(shape)
        weights[:, -1] = 1.0
        return weights
    raise UserError(f"weighting must be one of {WEIGHTINGS} (or give a table), got {weighting!r}")


def _check_table(table: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    if tuple(table.shape) != shape:
        raise UserError(f"loss weight table must have shape (depths, widths) = {shape}, got {tuple(table.shape)}")
    if not torch.isfinite(table).all() or (table < 0).any():
        raise UserError("loss weights must be finite and non-negative")
    if table.sum() <= 0:
        raise UserError("loss weights must not all be zero")
    return table
