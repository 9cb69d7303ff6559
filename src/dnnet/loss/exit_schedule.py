"""Exit weights that change over training: early exits ramped in (Shallow-Deep Networks, Kaya et al., 2019).

An early exit's loss pulls the shared layers towards features that classify early, which the deep
layers then cannot use; ramping the early exits in lets the trunk learn first.
"""

from __future__ import annotations

import torch

from dnnet.errors import UserError

RAMP_START = 0.01  # an early exit's weight factor at the start of the ramp, as in Shallow-Deep Networks


def exit_ramp(num_exits: int, progress: float, ramp_fraction: float) -> torch.Tensor:
    """Factor (num_exits,) of each exit's loss weights at `progress` (0..1 of training): the last exit 1,
    every earlier one rising linearly from RAMP_START to 1 over the first `ramp_fraction` of training."""
    if not 0.0 <= ramp_fraction <= 1.0:
        raise UserError(f"ramp_fraction must be in [0, 1], got {ramp_fraction}")
    reached = 1.0 if ramp_fraction == 0 else min(max(progress, 0.0) / ramp_fraction, 1.0)
    factors = torch.full((num_exits,), RAMP_START + (1.0 - RAMP_START) * reached)
    factors[-1] = 1.0
    return factors
