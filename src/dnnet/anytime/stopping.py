"""When an anytime walk stops: every image confident enough, or the next step expected past the deadline.

The confidence threshold is chosen on validation predictions (the lowest that keeps the accuracy of
walking the whole path); the step times are learned from earlier walks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

# up to this many logits the check runs in Python: at batch 1 it is several times cheaper than tensor operations
_PYTHON_CHECK_MAX_LOGITS = 256


def top_confidence(logits: torch.Tensor) -> torch.Tensor:
    """(N,) each row's top softmax probability, in float64 as thresholds are chosen: near 1, float32 rounds
    0.999999996 up to 1.0 and would let an image stop that the plan keeps walking."""
    return logits.double().softmax(-1).amax(-1)


def all_confident(logits: torch.Tensor, threshold: float) -> bool:
    """Whether every row's top softmax probability reaches `threshold`."""
    if logits.numel() > _PYTHON_CHECK_MAX_LOGITS:
        return bool((top_confidence(logits) >= threshold).all())
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


@dataclass(frozen=True)
class EarlyStop:
    """The confidence threshold chosen on validation, and what stopping at it gave there."""

    threshold: float
    accuracy: float  # on the split it was chosen with, stopping at the first confident step
    full_path_accuracy: float
    mean_steps: float  # steps walked on average (1 = the first cell)


def stop_step(step_logits: torch.Tensor, threshold: float) -> torch.Tensor:
    """Per image, the index of the first step whose top softmax probability reaches `threshold` (else the last)."""
    confident = step_logits.softmax(-1).amax(-1) >= threshold  # (N, steps)
    confident[:, -1] = True
    return confident.float().argmax(1)


def choose_threshold(step_logits: torch.Tensor, labels: torch.Tensor, tolerance: float = 0.005,
                     candidates: Sequence[float] = tuple(x / 100 for x in range(50, 100)) + (0.995, 0.999)) -> EarlyStop:
    """The lowest threshold whose early-stopped accuracy is within `tolerance` of walking the whole path.

    `step_logits` (N, steps, classes) are the path's predictions on validation images (`path_logits`).
    """
    correct = step_logits.argmax(-1) == labels[:, None]  # (N, steps)
    full = correct[:, -1].double().mean().item()
    rows = torch.arange(len(labels))
    chosen = None
    for threshold in sorted(candidates):
        steps = stop_step(step_logits, threshold)
        accuracy = correct[rows, steps].double().mean().item()
        if accuracy >= full - tolerance:
            chosen = EarlyStop(threshold, accuracy, full, steps.double().mean().item() + 1)
            break
    if chosen is None:  # nothing below 1 keeps the accuracy: never stop early
        chosen = EarlyStop(1.0, full, full, float(step_logits.shape[1]))
    return chosen
