"""Exit classifier: one linear layer per channel group, summed cumulatively over groups."""

from __future__ import annotations

import math

import torch
from torch import nn

from dnnet.layers.gradient_scale import scale_gradient


class GroupExitHead(nn.Module):
    """Pools each group and gives the logits of every width at once.

    The logits of width c are Z_c = sum_{k<=c} W_k f_k + b (the paper's formula), where f_k is
    the average-pooled group k; with reduction="mean" the sum is divided by c (the paper's text).
    One cumulative sum over groups yields all widths from one set of per-group products.
    With `per_width`, width c has its own W_{c,k} and b_c instead (weight (groups, groups, classes,
    group_channels), of which k <= c is used; bias (groups, classes)).
    """

    def __init__(self, group_channels: int, groups: int, num_classes: int, reduction: str = "sum",
                 per_width: bool = False) -> None:
        super().__init__()
        self.group_channels = group_channels
        self.groups = groups
        self.num_classes = num_classes
        self.reduction = reduction
        self.per_width = per_width
        width_axes = (groups, groups) if per_width else (groups,)
        self.weight = nn.Parameter(torch.empty(*width_axes, num_classes, group_channels))
        self.bias = nn.Parameter(torch.empty(*width_axes[:-1], num_classes))
        # the init of nn.Linear over the full width's features
        bound = 1.0 / math.sqrt(group_channels * groups)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        self._width_masks: dict = {}  # see _widths_with
        if per_width:  # width c reads groups 1..c: the rest of its row is never used
            self.register_buffer("used", torch.ones(groups, groups).tril()[:, :, None, None], persistent=False)

    def forward(self, features: torch.Tensor, feature_gradient: list[float] | None = None) -> torch.Tensor:
        """Features (N, w*group_channels, H, W) -> logits of widths 1..w, shape (N, w, classes).

        `feature_gradient[c-1]` (training recipes): the factor by which width c's gradient reaches the
        features (the head's own weights get it whole); the logits are unchanged.
        """
        batch, channels = features.shape[:2]
        width = channels // self.group_channels
        # sum then scale the small pooled tensor: the backward of mean would write a full-size gradient per exit
        pooled = (features.sum(dim=(2, 3)) / (features.shape[2] * features.shape[3])).reshape(batch, width, self.group_channels)
        if feature_gradient is None or all(factor == 1.0 for factor in feature_gradient):
            return self._logits(pooled)
        if len(feature_gradient) != width:
            raise ValueError(f"feature_gradient has {len(feature_gradient)} factors for {width} widths")
        # one small product per distinct factor; each width keeps the one whose gradient it should pass
        logits = None
        for factor in sorted(set(feature_gradient)):
            chosen = self._widths_with(tuple(feature_gradient), factor, features.device)
            scaled = self._logits(scale_gradient(pooled, factor))
            logits = scaled if logits is None else torch.where(chosen, scaled, logits)
        return logits

    def _widths_with(self, feature_gradient: tuple[float, ...], factor: float, device: torch.device) -> torch.Tensor:
        """(w, 1) bool: the widths whose factor is `factor`; made once per run, not copied to the device every step."""
        key = (feature_gradient, factor, device)
        if key not in self._width_masks:
            self._width_masks[key] = torch.tensor([f == factor for f in feature_gradient], device=device)[:, None]
        return self._width_masks[key]

    def _logits(self, pooled: torch.Tensor) -> torch.Tensor:
        width = pooled.shape[1]
        if self.per_width:
            weight = self.weight[:width, :width] * self.used[:width, :width]
            logits = torch.einsum("ngc,wgkc->nwk", pooled, weight)
            bias = self.bias[:width]
        else:
            logits = torch.einsum("nwc,wkc->nwk", pooled, self.weight[:width]).cumsum(dim=1)
            bias = self.bias
        if self.reduction == "mean":
            logits = logits / torch.arange(1, width + 1, device=logits.device, dtype=logits.dtype)[:, None]
        return logits + bias

    def merged_linear(self, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight (classes, width*group_channels) and bias of one `nn.Linear` equal to width `width`."""
        per_group = self.weight[width - 1, :width] if self.per_width else self.weight[:width]
        weight = per_group.permute(1, 0, 2).reshape(self.num_classes, width * self.group_channels)
        if self.reduction == "mean":
            weight = weight / width
        return weight, self.bias[width - 1] if self.per_width else self.bias

    def extra_repr(self) -> str:
        return (f"group_channels={self.group_channels}, groups={self.groups}, classes={self.num_classes}, "
                f"reduction={self.reduction}, per_width={self.per_width}")
