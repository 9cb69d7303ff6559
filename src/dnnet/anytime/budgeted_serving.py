"""Budgeted classification executed for real through the anytime runner with per-step thresholds - each image alone,
or in batches that each image leaves at its own step - so that the MACs and time it spends can be held against what
the thresholds planned on the path's logits."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from dnnet.anytime.budgeted import stopping_steps
from dnnet.anytime.runner import AnytimeRunner


@dataclass(frozen=True)
class ServedBudget:
    accuracy: float
    mean_macs: float  # MACs of the steps the runner walked (incremental: the path's stop costs)
    mean_ms: float
    median_ms: float
    planned_mean_macs: float  # what the thresholds gave on the same images' path logits
    same_stop_share: float  # images that stopped at the step the plan said


def serve_budgeted(runner: AnytimeRunner, images: torch.Tensor, labels: torch.Tensor, thresholds: torch.Tensor,
                   costs: torch.Tensor, planned_confidence: torch.Tensor) -> ServedBudget:
    """Serves `images` one at a time (batch 1) with `thresholds`; `planned_confidence` (N, steps): their top softmax
    probability at each step of the path, from `path_logits`, for the planned stops."""
    if runner.compute_ahead != "none":  # an image that stops early would have paid for more than its plan counts
        raise ValueError(f"budgeted serving needs a runner that computes nothing ahead (compute_ahead='none'), "
                         f"got {runner.compute_ahead!r}")
    planned = stopping_steps(planned_confidence, thresholds)
    steps, milliseconds, hits = [], [], 0
    with torch.no_grad():
        runner.run(images[:1], confidence=thresholds.tolist())  # untimed: the buffers of batch 1 made once
        for image, label in zip(images, labels.tolist()):
            answer = runner.run(image[None], confidence=thresholds.tolist())
            steps.append(len(answer.cells_done) - 1)
            milliseconds.append(1e3 * answer.seconds[-1])
            hits += int(answer.logits.argmax(-1).item() == label)
    walked = torch.tensor(steps)
    return ServedBudget(accuracy=hits / len(steps), mean_macs=costs[walked].mean().item(), mean_ms=statistics.fmean(milliseconds),
                        median_ms=statistics.median(milliseconds), planned_mean_macs=costs[planned].mean().item(),
                        same_stop_share=(walked == planned).double().mean().item())


@dataclass(frozen=True)
class ServedBatches:
    batch_size: int
    accuracy: float
    mean_macs: float  # MACs the batches computed (each step over the images still walking), per image
    ms_per_image: float  # the batches' time over the images
    planned_mean_macs: float
    same_stop_share: float


def serve_budgeted_batches(runner: AnytimeRunner, images: torch.Tensor, labels: torch.Tensor, thresholds: torch.Tensor,
                           costs: torch.Tensor, planned_confidence: torch.Tensor, batch_size: int) -> ServedBatches:
    """Serves `images` `batch_size` at a time, each leaving its batch at its first confident step (`classify_each`)."""
    planned = stopping_steps(planned_confidence, thresholds)
    step_costs = torch.diff(costs.double(), prepend=costs.new_zeros(1).double())  # what one image pays for each step
    stops, macs, seconds, hits = [], 0.0, 0.0, 0
    with torch.no_grad():
        runner.classify_each(images[:batch_size], thresholds.tolist())  # untimed: the buffers of a full batch made once
        for start in range(0, len(images), batch_size):
            answer = runner.classify_each(images[start : start + batch_size], thresholds.tolist())
            stops.append(answer.stop_steps)
            macs += sum(size * step_costs[step].item() for step, size in enumerate(answer.batch_sizes))
            seconds += answer.seconds
            hits += int((answer.logits.argmax(-1) == labels[start : start + batch_size]).sum())
    walked = torch.cat(stops)
    return ServedBatches(batch_size=batch_size, accuracy=hits / len(walked), mean_macs=macs / len(walked),
                         ms_per_image=1e3 * seconds / len(walked), planned_mean_macs=costs[planned].double().mean().item(),
                         same_stop_share=(walked == planned).double().mean().item())
