"""An anytime runner answering labelled images one request at a time: accuracy, steps and time delivered."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import torch

from dnnet.deploy.anytime import AnytimeRunner


@dataclass(frozen=True)
class ServingSummary:
    requests: int
    accuracy: float  # of the answer each request got
    mean_steps: float  # cells reached per request (1 = the first cell of the path)
    median_ms: float  # time per request, from its start to its answer
    mean_ms: float
    p95_ms: float
    stopped_by: dict[str, int]  # requests per reason: "path end", "deadline", "confidence"
    cells: dict[str, int]  # requests per answering cell, "D10&W8"

    def as_dict(self) -> dict:
        return asdict(self)


def serve_one_by_one(runner: AnytimeRunner, images: torch.Tensor, labels: torch.Tensor, deadline_s: float | None = None,
                     confidence: float | None = None, warmup: int = 3) -> ServingSummary:
    """Walks each image alone (batch 1) with the runner's deadline and confidence stop; `images` are normalized."""
    if len(images) == 0:
        raise ValueError("no images to serve")
    for image in images[:warmup]:  # first calls prepare the runner's buffers and steps
        runner.run(image[None])
    correct, steps, milliseconds, stopped_by, cells = [], [], [], {}, {}
    for image, label in zip(images, labels):
        answer = runner.run(image[None], deadline_s=deadline_s, confidence=confidence)
        correct.append(int(answer.logits.argmax(-1).item() == int(label)))
        steps.append(len(answer.cells_done))
        milliseconds.append(1e3 * answer.seconds[-1])
        stopped_by[answer.stopped_by] = stopped_by.get(answer.stopped_by, 0) + 1
        name = f"D{answer.cell[0]}&W{answer.cell[1]}"
        cells[name] = cells.get(name, 0) + 1
    ordered = sorted(milliseconds)
    return ServingSummary(len(images), sum(correct) / len(correct), sum(steps) / len(steps), statistics.median(ordered),
                          sum(ordered) / len(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], stopped_by, cells)
