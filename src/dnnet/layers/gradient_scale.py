"""An identity whose backward pass scales the gradient: how a training recipe shares a feature's gradient."""

from __future__ import annotations

import torch


class _ScaleGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.factor, None


def scale_gradient(x: torch.Tensor, factor: float) -> torch.Tensor:
    """`x` unchanged in the forward pass; its gradient multiplied by `factor` in the backward pass."""
    return x if factor == 1.0 else _ScaleGradient.apply(x, factor)
