"""An exponential moving average of a model's weights (`--ema`), the network a run evaluates and saves as trained."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from dnnet.errors import UserError


class WeightAverage:
    """After every optimizer step, `update()` moves each averaged value towards the live model's:
    average = decay * average + (1 - decay) * live, over about the last 1 / (1 - decay) steps.

    Batch norm's running mean and variance are averaged as the weights are (every floating-point buffer is), so that
    the averaged weights are evaluated with statistics of the same steps rather than of the latest weights alone (timm's
    ModelEmaV3 does the same unless told to exclude buffers); integer buffers (batches counted) are copied.
    `module` is the average: a copy of the model in eval mode, without gradients. The live model's tensors are read
    where they are, so they must be updated in place (an optimizer's step and batch norm's running statistics are).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise UserError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        live, average = model.state_dict(), self.module.state_dict()  # tensors sharing the modules' storage
        pairs = [(average[name], live[name]) for name in live]
        self.averaged = [a for a, _ in pairs if a.is_floating_point()]
        self.averaged_from = [b for a, b in pairs if a.is_floating_point()]
        self.copied = [(a, b) for a, b in pairs if not a.is_floating_point()]

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average, after an optimizer step (one fused kernel per group of tensors)."""
        torch._foreach_lerp_(self.averaged, self.averaged_from, 1.0 - self.decay)
        for average, live in self.copied:
            average.copy_(live)

    def state_dict(self) -> dict[str, Any]:
        """The averaged weights and buffers, keyed as the model's own (what a checkpoint's "ema" holds)."""
        return self.module.state_dict()
