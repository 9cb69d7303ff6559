"""Anytime inference: refine the answer step by step along a path of cells, never recomputing.

Every activation lives in a buffer of the full width; a step computes only what no step before it
computed: new groups' channels of the layers up to the current exit (widening) or new layers (deepening),
starting from the cached activation of the last exit - only its own cell's, or ahead of it, as far as
its schedule says (`compute_ahead`). The runner always holds the latest prediction, stops at a
deadline, and can stop early when every image's prediction is confident enough.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from dnnet.anytime.folded_blocks import BlockStep, StemStep
from dnnet.anytime.folded_network import Workspace, fold_network
from dnnet.anytime.kernels import interior
from dnnet.anytime.path import COMPUTE_AHEAD, check_compute_ahead, layer_ranges
from dnnet.anytime.path_choice import PathRequest, choose_path
from dnnet.anytime.stopping import StepTimes, all_confident, top_confidence
from dnnet.config import Cell
from dnnet.errors import UserError
from dnnet.models.dnnet import DNNet

# Per schedule (compute ahead), the largest batch whose convolutions run as products over kept unfolded inputs; larger
# ones call the library's convolution. Walking the trained ResNet-20's default path on 2 CPU cores, unfolding took
# (docs/benchmarks_compute_ahead.json, "kernels"): one cell at a time 0.66x the time at batch 8, 0.92x at 16, 1.16x
# at 32 (kept at 8: 0.92x is a thin margin); a widening run at once 0.95x at batch
# 4, 1.30x at 8; every layer at once 0.94x at batch 4 (a thin margin too), 1.31x at 8.
UNFOLD_MAX_BATCH = {"none": 8, "widening": 4, "all": 4}
DEFAULT_COMPUTE_AHEAD = "widening"  # see AnytimeRunner


@dataclass(frozen=True)
class CellStep:
    """One cell of the path, prepared over a workspace: the layer steps that reach it, then its exit."""

    cell: Cell
    layer_steps: list[StemStep | BlockStep]
    features: torch.Tensor  # the exit's activation as (channels, N, pixels), with its zero border: it adds nothing to the sum
    pool_scale: float  # 1 / pixels inside the border: the sum becomes the average
    classifier: torch.Tensor  # (channels, classes), every group's classifier merged
    bias: torch.Tensor

    def run(self) -> torch.Tensor:
        """Computes the new layers' groups and returns the cell's logits, (N, classes)."""
        for step in self.layer_steps:
            step.run()
        # average pooling as a sum scaled inside the product: mean over two dims is several times slower at batch 1
        return torch.addmm(self.bias, self.features.sum(-1).T, self.classifier, alpha=self.pool_scale)


@dataclass(frozen=True)
class PreparedWalk:
    """A workspace and the path's steps prepared over it, kept together for the next batch of its shape."""

    space: Workspace
    ahead: str  # the schedule its steps follow (path.layer_ranges)
    steps: list[CellStep]


@dataclass
class AnytimeAnswer:
    """What a walk delivered: its latest logits, the cell that gave them, and why it stopped."""

    logits: torch.Tensor  # latest prediction, (N, classes)
    cell: Cell  # the cell that gave it
    cells_done: list[Cell]  # every cell reached, in order
    seconds: list[float]  # time since the start when each cell was reached
    stopped_by: str  # "path end", "deadline" or "confidence"


@dataclass
class EachImageAnswer:
    """What a walk that lets each image stop on its own delivered (budgeted batch classification)."""

    logits: torch.Tensor  # each image's prediction at the step it stopped, (N, classes)
    stop_steps: torch.Tensor  # (N,) the index on the path of the step each image stopped at
    seconds: float  # the whole batch's time
    batch_sizes: list[int]  # how many images each step computed: the walk's cost is sum(batch_sizes[s] * step s's MACs)


class AnytimeRunner:
    """Walks `path` for a batch of images; `model` is put in eval mode and read once (batch norm folded).

    `path`: a list of cells, or how to choose them from `accuracy`, the validation grid (`path_choice`): "auto" (the
    default) and "area" the exact best by area, "greedy", "front".

    Up to `unfold_max_batch` images (default: by schedule, `UNFOLD_MAX_BATCH`), convolutions are products over
    unfolded inputs kept between steps (fewer operations per step at small batches); larger batches call the
    library's convolutions.
    The buffers of the last batch shape are kept for the next walk; walks at the same time get their own.
    `compute_ahead` (`path.layer_ranges`): "all" - each layer is computed once, as wide as the path ever needs it,
    and a narrower cell's answer is read from its first groups; "widening" - a run of widening steps at one depth is
    computed in its first step; "none" - each step computes only what its own cell adds (the soonest first answers,
    each step paying exactly the MACs its cell adds). "widening" is the default: on the default path of a trained
    network (deepen the narrow cells, then widen at the last exit) it walks within 0.75x / 1.24x the folded full network
    at batch 1 / 32 on a CPU and gives its narrow answers about as soon as "none", where "all" computes every layer at
    full width on the way down (docs/benchmarks.md, "Computing ahead"); "all" is the faster walk of a staircase path.
    `classify_each` always walks one cell at a time: images that leave would not use what was computed ahead.
    """

    def __init__(self, model: DNNet, path: PathRequest = "auto", unfold_max_batch: int | None = None,
                 compute_ahead: str = DEFAULT_COMPUTE_AHEAD, accuracy: torch.Tensor | None = None) -> None:
        self.model = model.eval()
        # `path`: its cells, or a rule of path_choice ("auto", "area", "greedy", "front") applied to `accuracy`, the
        # validation grid (a network whose widths are not nested has one path and needs none)
        if isinstance(path, str) and accuracy is None and model.config.nested_widths:
            raise UserError(f"a path chosen by rule ({path!r}) needs the validation accuracy grid: "
                            f"AnytimeRunner(model, {path!r}, accuracy=read_accuracy_grid(run, 'val'))")
        if accuracy is None:
            accuracy = torch.zeros(model.config.grid_shape, dtype=torch.float64)
        self.chosen_path = choose_path(model.config, accuracy, path)  # the cells, the rule, and their area on `accuracy`
        self.path = self.chosen_path.cells
        # a dense network too: check_path let its path only deepen; a width-conditioned one at its path's width
        self.folded = fold_network(model, None if model.config.nested_widths else self.path[0].width)
        self.unfold_max_batch = unfold_max_batch  # up to this batch size, products over kept unfolded inputs (None: by schedule)
        self._kept: dict[str, PreparedWalk] = {}  # per schedule, kept between walks of batches of one shape
        # learned from every `run`, for stopping before a step would pass the deadline: per schedule, whose steps differ
        self._step_times = {ahead: StepTimes() for ahead in COMPUTE_AHEAD}
        self._compute_ahead = check_compute_ahead(compute_ahead)
        # per schedule and step, the layer groups it computes (every schedule: `compute_ahead` may be changed later)
        self.layer_ranges = {ahead: layer_ranges(self.path, model.config.exit_blocks, ahead) for ahead in COMPUTE_AHEAD}
        # each visited cell's classifier as one (channels, classes) matrix: a step's logits are one pooled product
        self.classifiers: dict[Cell, tuple[torch.Tensor, torch.Tensor]] = {}
        for depth, width in self.path:
            weight, bias = model.heads[depth - 1].merged_linear(width)
            self.classifiers[Cell(depth, width)] = (weight.detach().T.contiguous(), bias.detach())

    @property
    def compute_ahead(self) -> str:
        """The schedule the next walk follows (`COMPUTE_AHEAD`); it may be changed between walks, and is checked then."""
        return self._compute_ahead

    @compute_ahead.setter
    def compute_ahead(self, ahead: str) -> None:
        self._compute_ahead = check_compute_ahead(ahead)

    @property
    def step_times(self) -> StepTimes:
        """What earlier walks with the current schedule took per step."""
        return self._step_times[self.compute_ahead]

    def steps(self, x: torch.Tensor) -> Iterator[tuple[Cell, torch.Tensor]]:
        """Yields (cell, logits) along the path; stop iterating at any moment to stop computing.

        Nothing here records gradients (weights and input are read detached), so no grad-mode context
        is entered: on a generator it would be entered and left again at every step.
        """
        self.model.check_input(x)
        walk = self._take_walk(x, self.compute_ahead)
        try:
            interior(walk.space.image, self.folded.border).copy_(x.detach().transpose(0, 1))
            for step in walk.steps:
                yield step.cell, step.run()
        finally:
            self._kept[walk.ahead] = walk

    def _take_walk(self, x: torch.Tensor, ahead: str) -> PreparedWalk:
        """The walk kept for schedule `ahead` when its buffers fit `x`, else a new one; taken, so that a second walk at
        the same time gets its own. Each schedule keeps its own, so that one runner may walk and classify in turn."""
        walk = self._kept.pop(ahead, None)
        unfold = x.shape[0] <= self._unfold_max_batch(ahead)
        if walk is None or not self.folded.fits(walk.space, x, unfold):
            space = self.folded.workspace(x, unfold)
            walk = PreparedWalk(space, ahead, [self._prepare_step(space, index, ahead) for index in range(len(self.path))])
        return walk

    def _unfold_max_batch(self, ahead: str) -> int:
        return UNFOLD_MAX_BATCH[ahead] if self.unfold_max_batch is None else self.unfold_max_batch

    def _prepare_step(self, space: Workspace, index: int, ahead: str) -> CellStep:
        """Step `index` of the path over `space` as schedule `ahead` plans it: its layers' steps, and its exit's
        features and classifier."""
        cell, exit_blocks, border = self.path[index], self.model.config.exit_blocks, self.folded.border
        classifier, bias = self.classifiers[cell]
        features = space.outputs[exit_blocks[cell.depth - 1]]
        pixels = (features.shape[2] - 2 * border) * (features.shape[3] - 2 * border)
        return CellStep(cell, [self.folded.step(space, *layer_range) for layer_range in self.layer_ranges[ahead][index]],
                        features[: classifier.shape[0]].flatten(2), 1 / pixels, classifier, bias)

    def run(self, x: torch.Tensor, deadline_s: float | None = None,
            confidence: float | Sequence[float] | None = None) -> AnytimeAnswer:
        """Walks the path until its end, every image is confident, or the deadline: the walk stops before a step
        that earlier walks of this batch size say would end past it (and after the first step that does).
        `confidence`: one threshold for every step, or one per step of the path (budgeted classification)."""
        per_step = None if confidence is None or isinstance(confidence, (int, float)) else list(confidence)
        if per_step is not None and len(per_step) != len(self.path):
            raise UserError(f"{len(per_step)} confidence thresholds for a path of {len(self.path)} cells")
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
            threshold = confidence if per_step is None else per_step[len(cells) - 1]
            if threshold is not None and all_confident(logits, threshold):
                stopped_by = "confidence"
                break
            if deadline_s is not None and seconds[-1] + self.step_times.next_step(x.shape[0], len(cells)) >= deadline_s:
                stopped_by = "deadline"
                break
        walk.close()  # gives the buffers back to the runner
        self.step_times.record(x.shape[0], seconds)
        return AnytimeAnswer(latest[1], latest[0], cells, seconds, stopped_by)

    def classify_each(self, x: torch.Tensor, thresholds: Sequence[float]) -> EachImageAnswer:
        """Walks the path with the whole batch, each image leaving at the first step whose top softmax probability
        reaches that step's threshold (the last step answers for the rest): after a step where some left, the others
        continue in a workspace of their own (with unfolded products once they are few enough), so later steps compute
        only the images still walking."""
        if len(thresholds) != len(self.path):
            raise UserError(f"{len(thresholds)} confidence thresholds for a path of {len(self.path)} cells")
        self.model.check_input(x)
        started = time.perf_counter()
        walk = self._take_walk(x, "none")
        interior(walk.space.image, self.folded.border).copy_(x.detach().transpose(0, 1))
        space, prepared = walk.space, walk.steps  # after images leave: the steps over their buffers, made as needed
        walking = torch.arange(x.shape[0], device=x.device)
        logits = x.new_empty(x.shape[0], self.classifiers[self.path[0]][0].shape[1])
        stop_steps = torch.full((x.shape[0],), len(self.path) - 1, device=x.device)
        batch_sizes = []
        for index in range(len(self.path)):
            step = self._prepare_step(space, index, "none") if prepared is None else prepared[index]
            step_logits = step.run()
            batch_sizes.append(len(walking))
            leaving = top_confidence(step_logits) >= thresholds[index]
            if index == len(self.path) - 1 or bool(leaving.all()):
                logits[walking], stop_steps[walking] = step_logits, index
                break
            if bool(leaving.any()):
                logits[walking[leaving]], stop_steps[walking[leaving]] = step_logits[leaving], index
                staying = (~leaving).nonzero().flatten()
                layers = 1 + self.model.config.exit_blocks[max(cell.depth for cell in self.path[: index + 1]) - 1]
                space = self.folded.keep_images(space, staying, layers, unfold=len(staying) <= self._unfold_max_batch("none"))
                prepared, walking = None, walking[staying]
        self._kept["none"] = walk  # the full batch's buffers, for the next batch of this shape
        return EachImageAnswer(logits, stop_steps.cpu(), time.perf_counter() - started, batch_sizes)
