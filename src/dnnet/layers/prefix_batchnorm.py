"""Batch norm that accepts the first c channels of its full width."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PrefixBatchNorm2d(nn.BatchNorm2d):
    """`nn.BatchNorm2d` over the first `x.shape[1]` channels, for width-sliced inputs.

    Batch norm is causal as it is: every statistic and affine parameter is per channel, so
    channel j of the output depends on channel j of the input alone, never on later groups.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        if channels > self.num_features:
            raise ValueError(f"expected at most {self.num_features} channels, got {channels}")
        use_batch_stats = self.training or self.running_mean is None
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
        # slices of the running buffers are views, so batch statistics update the first channels in place
        return F.batch_norm(
            x,
            None if self.running_mean is None else self.running_mean[:channels],
            None if self.running_var is None else self.running_var[:channels],
            self.weight[:channels],
            self.bias[:channels],
            use_batch_stats,
            self.momentum,
            self.eps,
        )
