"""Batch norm that accepts the first c channels of its full width, and its twin synced across processes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnet.errors import UserError


class PrefixBatchNorm2d(nn.BatchNorm2d):
    """`nn.BatchNorm2d` over the first `x.shape[1]` channels, for width-sliced inputs.

    Batch norm is causal as it is: every statistic and affine parameter is per channel, so
    channel j of the output depends on channel j of the input alone, never on later groups.
    """

    width_conditioned = False  # True: affine and statistics per width (`WidthConditionedBatchNorm2d`)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        if channels > self.num_features:
            raise ValueError(f"expected at most {self.num_features} channels, got {channels}")
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
        return self._normalize(x)

    def cell_statistics(self, channels: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Running mean, running variance, weight and bias of the first `channels` channels: what a sliced cell's
        `nn.BatchNorm2d` holds (views: batch statistics update the running values in place)."""
        values = (self.running_mean, self.running_var, self.weight, self.bias)
        return tuple(first_channels(value, channels) for value in values)

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        use_batch_stats = self.training or self.running_mean is None
        mean, var, weight, bias = self.cell_statistics(x.shape[1])
        return F.batch_norm(x, mean, var, weight, bias, use_batch_stats, self.momentum, self.eps)


def first_channels(values: torch.Tensor | None, channels: int) -> torch.Tensor | None:
    """The first `channels` of per-channel `values`: a slice only below the full width (the backward of a slice
    writes a zero-filled gradient of the full size first)."""
    if values is None or len(values) == channels:
        return values
    return values[:channels]


class SyncedPrefixBatchNorm2d(PrefixBatchNorm2d):
    """In training, batch statistics summed over all processes of the default process group, so N
    processes with batches of B/N normalise as one process with batch B (like `nn.SyncBatchNorm`).
    In eval mode it is a `PrefixBatchNorm2d`: the running statistics are already the same everywhere.
    """

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super()._normalize(x)
        channels = x.shape[1]
        local = torch.cat([x.sum((0, 2, 3)), (x * x).sum((0, 2, 3)), x.new_tensor([x.numel() / channels])])
        total = _SumOverProcesses.apply(local)
        count = total[-1]
        mean = total[:channels] / count
        var = total[channels : 2 * channels] / count - mean * mean
        with torch.no_grad():
            self.running_mean[:channels].lerp_(mean, self.momentum)
            self.running_var[:channels].lerp_(var * count / (count - 1), self.momentum)
        scale = self.weight[:channels] * torch.rsqrt(var + self.eps)
        return x * scale[None, :, None, None] + (self.bias[:channels] - mean * scale)[None, :, None, None]


def to_synced_batchnorm(module: nn.Module) -> nn.Module:
    """`module` with every `PrefixBatchNorm2d` made a `SyncedPrefixBatchNorm2d` (in place; returned for chaining).

    The new layers share the old ones' parameters and buffers: state dicts and optimizers stay valid.
    """
    return _convert(module, SyncedPrefixBatchNorm2d)


def to_local_batchnorm(module: nn.Module) -> nn.Module:
    """The inverse of `to_synced_batchnorm`: batch statistics of this process alone, no collective."""
    return _convert(module, PrefixBatchNorm2d)


def _convert(module: nn.Module, kind: type[PrefixBatchNorm2d]) -> nn.Module:
    if isinstance(module, PrefixBatchNorm2d) and module.width_conditioned:
        if kind is SyncedPrefixBatchNorm2d:  # its statistics are per width: synchronising them is not built
            raise UserError("a width-conditioned network trains in one process; several processes are not supported")
        return module  # already local
    if isinstance(module, PrefixBatchNorm2d):
        return module if type(module) is kind else _same_state_as(module, kind)
    for name, child in module.named_children():
        module.add_module(name, _convert(child, kind))
    return module


def _same_state_as(norm: PrefixBatchNorm2d, kind: type[PrefixBatchNorm2d]) -> PrefixBatchNorm2d:
    twin = kind(norm.num_features, norm.eps, norm.momentum, norm.affine, norm.track_running_stats)
    for name, parameter in norm.named_parameters(recurse=False):
        setattr(twin, name, parameter)
    for name, buffer in norm.named_buffers(recurse=False):
        setattr(twin, name, buffer)
    return twin.train(norm.training)


class _SumOverProcesses(torch.autograd.Function):
    """All-reduce (sum) whose gradient is the all-reduced gradient: every process's loss
    depends on every process's contribution to the global statistics."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.clone()
        dist.all_reduce(grad)
        return grad
