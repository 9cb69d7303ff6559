"""Test-time augmentation: every cell's logits averaged over transformed copies of each image (`dnnet eval --tta`)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from dnnet.errors import UserError

NO_TTA = "none"
# each mode's views of a batch (N, C, H, W); the logits of every view are averaged, one forward pass per view
VIEWS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], ...]] = {
    NO_TTA: (lambda x: x,),
    "flip": (lambda x: x, lambda x: x.flip(-1)),  # the image and its horizontal mirror
}
TTA_MODES = tuple(VIEWS)


def check_tta(mode: str) -> str:
    """`mode` if it is one of TTA_MODES; a UserError naming them otherwise."""
    if mode not in VIEWS:
        raise UserError(f"tta must be one of {TTA_MODES}, got {mode!r}")
    return mode


def augmented_logits(logits_of: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, mode: str) -> torch.Tensor:
    """`logits_of(view)` averaged over the views of `images` that `mode` takes (the mean of the logits, not of the
    probabilities); `logits_of(images)` itself without TTA."""
    views = VIEWS[check_tta(mode)]
    total = logits_of(views[0](images))
    for view in views[1:]:
        total = total + logits_of(view(images))
    return total / len(views) if len(views) > 1 else total
