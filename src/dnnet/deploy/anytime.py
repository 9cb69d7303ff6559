"""Anytime inference: refine the answer step by step along a path of cells, never recomputing.

A path starts at a cell and moves, one step at a time, either wider at the same depth or deeper at
the same width. Every activation lives in a buffer of the full width; a step computes only what
is new: the new groups' channels of every layer up to the current exit (widening) or the new
layers at the current width, starting from the cached activation of the last exit (deepening).
The runner always holds the latest prediction, stops at a deadline, and can stop early when every
image's prediction is confident enough.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from dnnet.deploy.anytime_stopping import StepTimes, all_confident
from dnnet.deploy.group_layers import interior
from dnnet.deploy.incremental import UNFOLD_MAX_BATCH, Workspace, fold_network
from dnnet.models.dnnet import DNNet

Cell = tuple[int, int]  # (depth, width)


def check_path(model: DNNet, path: Sequence[Cell]) -> list[Cell]:
    """A path is a list of cells, each one wider (same depth) or deeper (same width) than the last."""
    if not path:
        raise ValueError("a path needs at least one cell")
    cells = [(int(d), int(w)) for d, w in path]
    for depth, width in cells:
        model.config.check_cell(depth, width)
    for (d0, w0), (d1, w1) in zip(cells, cells[1:]):
        wider, deeper = d1 == d0 and w1 > w0, w1 == w0 and d1 > d0
        if not (wider or deeper):
            raise ValueError(f"D{d0}&W{w0} -> D{d1}&W{w1} is not a step: move wider at the same depth or deeper at the same width")
        if wider and not model.config.causal:
            raise ValueError("a dense (depth-only) network cannot be widened incrementally; use a path of depths at full width")
    return cells


def layer_ranges(path: Sequence[Cell], exit_blocks: Sequence[int]) -> list[list[tuple[int, int, int]]]:
    """For each cell of the path, the group ranges it computes: (layer, old, new), layer 0 the stem.

    Widening first extends every layer computed so far by groups old+1..new; deepening then runs the
    new layers up to the cell's exit at the current width (old = 0).
    """
    width, blocks_done, plan = 0, 0, []
    for depth, new_width in path:
        last_block, ranges = exit_blocks[depth - 1], []
        if new_width > width:  # the first cell: the stem too
            ranges += [(layer, width, new_width) for layer in range(blocks_done + 1)]
            width = new_width
        ranges += [(layer, 0, width) for layer in range(blocks_done + 1, last_block + 1)]
        blocks_done = max(blocks_done, last_block)
        plan.append(ranges)
    return plan


@dataclass
class AnytimeAnswer:
    logits: torch.Tensor  # latest prediction, (N, classes)
    cell: Cell  # the cell that gave it
    cells_done: list[Cell]  # every cell reached, in order
    seconds: list[float]  # time since the start when each cell was reached
    stopped_by: str  # "path end", "deadline" or "confidence"


class AnytimeRunner:
    """Walks `path` for a batch of images; `model` is put in eval mode and read once (batch norm folded).

    Up to `unfold_max_batch` images, convolutions are products over unfolded inputs kept between steps
    (fewer operations per step at small batches); larger batches call the library's convolutions.
    The buffers of the last batch shape are kept for the next walk; walks at the same time get their own.
    """

    def __init__(self, model: DNNet, path: Sequence[Cell], unfold_max_batch: int = UNFOLD_MAX_BATCH) -> None:
        self.model = model.eval()
        self.path = check_path(model, path)
        self.folded = fold_network(model)  # a dense network too: check_path let its path only deepen
        self.unfold_max_batch = unfold_max_batch  # up to this batch size, products over kept unfolded inputs
        self._workspace: Workspace | None = None  # kept between walks of batches of one shape
        self.step_times = StepTimes()  # learned from every `run`, for stopping before a step would pass the deadline
        # each visited cell's classifier as one (channels, classes) matrix: a step's logits are one pooled product
        self.classifiers = {}
        for depth, width in self.path:
            weight, bias = model.heads[depth - 1].merged_linear(width)
            self.classifiers[(depth, width)] = (weight.detach().T.contiguous(), bias.detach())

    def steps(self, x: torch.Tensor) -> Iterator[tuple[Cell, torch.Tensor]]:
        """Yields (cell, logits) along the path; stop iterating at any moment to stop computing.

        Nothing here records gradients (weights and input are read detached), so no grad-mode context
        is entered: on a generator it would be entered and left again at every step.
        """
        self.model.check_input(x)
        space = self._take_workspace(x)
        try:
            interior(space.image, self.folded.border).copy_(x.detach().transpose(0, 1))
            for cell, layer_steps, features, scale, weight, bias in self._plan(space):
                for step in layer_steps:
                    step.run()
                # average pooling as a sum scaled inside the product: mean over two dims is several times slower at batch 1
                yield cell, torch.addmm(bias, features.sum(-1).T, weight, alpha=scale)
        finally:
            self._workspace = space

    def _plan(self, space: Workspace) -> list:
        """Per cell of the path: its layers' prepared steps, and its exit's features and classifier."""
        if space.plan is None:
            space.plan = []
            exit_blocks = self.model.config.exit_blocks
            for (depth, width), ranges in zip(self.path, layer_ranges(self.path, exit_blocks)):
                weight, bias = self.classifiers[(depth, width)]
                features = space.outputs[exit_blocks[depth - 1]]  # with its zero border: it adds nothing to the sum
                size = (features.shape[2] - 2 * self.folded.border) * (features.shape[3] - 2 * self.folded.border)
                space.plan.append(((depth, width), [self.folded.step(space, *r) for r in ranges],
                                   features[: weight.shape[0]].flatten(2), 1 / size, weight, bias))
        return space.plan

    def _take_workspace(self, x: torch.Tensor) -> Workspace:
        """The kept buffers when they fit `x`, else new ones; taken, so that a second walk at the same time gets its own."""
        space, self._workspace = self._workspace, None
        unfold = x.shape[0] <= self.unfold_max_batch
        if space is None or not self.folded.fits(space, x, unfold):
            space = self.folded.workspace(x, unfold)
        return space

    def run(self, x: torch.Tensor, deadline_s: float | None = None, confidence: float | None = None) -> AnytimeAnswer:
        """Walks the path until its end, every image is confident, or the deadline: the walk stops before a step
        that earlier walks of this batch size say would end past it (and after the first step that does)."""
        started = time.perf_counter()
        cells, seconds, latest = [], [], None
        stopped_by = "path end"
        walk = self.steps(x)
        for cell, logits in walk:
            latest = (cell, logits)
            cells.append(cell)
            seconds.append(time.perf_counter() - started)
            if cell == self.path[-1]:
                break
            if confidence is not None and all_confident(logits, confidence):
                stopped_by = "confidence"
                break
            if deadline_s is not None and seconds[-1] + self.step_times.next_step(x.shape[0], len(cells)) >= deadline_s:
                stopped_by = "deadline"
                break
        walk.close()  # gives the buffers back to the runner
        self.step_times.record(x.shape[0], seconds)
        return AnytimeAnswer(latest[1], latest[0], cells, seconds, stopped_by)
