"""An anytime runner answering labelled images one request at a time: accuracy, steps and time delivered."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import torch

from dnnet.anytime.runner import AnytimeRunner
from dnnet.config import cell_name
from dnnet.errors import UserError


@dataclass(frozen=True)
class ServingSummary:
    """Requests served one by one under one setting: accuracy, steps, latency (ms), and why each stopped."""

    requests: int
    accuracy: float  # of the answer each request got
    mean_steps: float  # cells reached per request (1 = the first cell of the path)
    median_ms: float  # time per request, from its start to its answer
    mean_ms: float
    p95_ms: float
    stopped_by: dict[str, int]  # requests per reason: "path end", "deadline", "confidence"
    cells: dict[str, int]  # requests per answering cell, "10x8"

    def as_dict(self) -> dict:
        return asdict(self)


def serve_one_by_one(runner: AnytimeRunner, images: torch.Tensor, labels: torch.Tensor, settings: dict[str, dict],
                     warmup: int = 3) -> dict[str, ServingSummary]:
    """Walks each image alone (batch 1) under every setting - keyword arguments of `runner.run`, such as
    `deadline_s` and `confidence` - the settings taking turns image by image, so that a slower moment of
    the machine falls on all of them alike. `images` are normalized."""
    if len(images) == 0:
        raise UserError("no images to serve")
    for image in images[:warmup]:  # first calls prepare the runner's buffers and steps
        runner.run(image[None])
    answers = {name: [] for name in settings}
    for image, label in zip(images, labels):
        for name, options in settings.items():
            answers[name].append((runner.run(image[None], **options), int(label)))
    return {name: _summary(served) for name, served in answers.items()}


def _summary(served: list) -> ServingSummary:
    milliseconds = sorted(1e3 * answer.seconds[-1] for answer, _ in served)
    stopped_by, cells = {}, {}
    for answer, _ in served:
        stopped_by[answer.stopped_by] = stopped_by.get(answer.stopped_by, 0) + 1
        name = cell_name(*answer.cell)
        cells[name] = cells.get(name, 0) + 1
    correct = sum(int(answer.logits.argmax(-1).item() == label) for answer, label in served)
    return ServingSummary(len(served), correct / len(served), sum(len(a.cells_done) for a, _ in served) / len(served),
                          statistics.median(milliseconds), sum(milliseconds) / len(milliseconds),
                          milliseconds[min(len(milliseconds) - 1, int(0.95 * len(milliseconds)))], stopped_by, cells)
