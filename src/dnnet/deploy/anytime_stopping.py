"""When an anytime walk stops: every image confident enough, or the next step expected past the deadline."""

from __future__ import annotations

import math

import torch

# up to this many logits the check runs in Python: at batch 1 it is several times cheaper than tensor operations
_PYTHON_CHECK_MAX_LOGITS = 256


def all_confident(logits: torch.Tensor, threshold: float) -> bool:
    """Whether every row's top softmax probability reaches `threshold`."""
    if logits.numel() > _PYTHON_CHECK_MAX_LOGITS:
        return bool((logits.softmax(-1).amax(-1) >= threshold).all())
    for row in logits.tolist():
        top = max(row)
        if 1.0 / sum(math.exp(value - top) for value in row) < threshold:  # the top probability
            return False
    return True


class StepTimes:
    """Each step's expected duration (seconds) per batch size, learned from earlier walks of the same runner."""

    def __init__(self, smoothing: float = 0.3) -> None:
        self.smoothing = smoothing  # weight of the newest walk in the moving average
        self.expected: dict[int, list[float]] = {}

    def next_step(self, batch: int, index: int) -> float:
        """Expected duration of step `index` (0 = the first); 0 when no earlier walk reached it."""
        known = self.expected.get(batch, [])
        return known[index] if index < len(known) else 0.0

    def record(self, batch: int, seconds: list[float]) -> None:
        """`seconds`: the time from the start of a walk to each step it reached."""
        durations = [b - a for a, b in zip([0.0, *seconds], seconds)]
        known = self.expected.setdefault(batch, [])
        for index, duration in enumerate(durations):
            if index < len(known):
                known[index] += self.smoothing * (duration - known[index])
            else:
                known.append(duration)
