"""Anytime inference: refine the answer step by step along a path of cells, never recomputing.

A path starts at a cell and moves, one step at a time, either wider at the same depth or deeper at
the same width. Deepening continues from the cached activation of the last exit; widening computes
only the new groups' channels of every layer up to the current exit (`dnnet.deploy.incremental`).
The runner always holds the latest prediction, stops at a deadline, and can stop early when every
image's prediction is confident enough.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch

from dnnet.deploy.incremental import batchnorm_channels, block_forward, block_widen, conv_new_groups
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


@dataclass
class AnytimeState:
    """The activations computed so far at the current width: the stem output, then (middle, output) per block."""

    depth: int
    width: int
    stem: torch.Tensor
    blocks: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)


@dataclass
class AnytimeAnswer:
    logits: torch.Tensor  # latest prediction, (N, classes)
    cell: Cell  # the cell that gave it
    cells_done: list[Cell]  # every cell reached, in order
    seconds: list[float]  # time since the start when each cell was reached
    stopped_by: str  # "path end", "deadline" or "confidence"


class AnytimeRunner:
    """Walks `path` for a batch of images; `model` is put in eval mode."""

    def __init__(self, model: DNNet, path: Sequence[Cell]) -> None:
        self.model = model.eval()
        self.path = check_path(model, path)

    @torch.no_grad()
    def steps(self, x: torch.Tensor) -> Iterator[tuple[Cell, torch.Tensor]]:
        """Yields (cell, logits) along the path; stop iterating at any moment to stop computing."""
        model = self.model
        model._check_input(x)
        state = None
        for depth, width in self.path:
            state = self._start(x, depth, width) if state is None else self._advance(x, state, depth, width)
            features = state.stem if depth == 1 and model.config.exit_blocks[0] == 0 else self._exit_features(state, depth)
            yield (depth, width), model.heads[depth - 1](features)[:, -1]

    def run(self, x: torch.Tensor, deadline_s: float | None = None, confidence: float | None = None) -> AnytimeAnswer:
        """Walks the path until its end, the deadline (checked after every step) or every image is confident."""
        started = time.perf_counter()
        cells, seconds, latest = [], [], None
        stopped_by = "path end"
        for cell, logits in self.steps(x):
            latest = (cell, logits)
            cells.append(cell)
            seconds.append(time.perf_counter() - started)
            if confidence is not None and bool((logits.softmax(-1).amax(-1) >= confidence).all()):
                stopped_by = "confidence"
                break
            if deadline_s is not None and seconds[-1] >= deadline_s:
                stopped_by = "deadline" if cell != self.path[-1] else "path end"
                break
        return AnytimeAnswer(latest[1], latest[0], cells, seconds, stopped_by)

    def _exit_features(self, state: AnytimeState, depth: int) -> torch.Tensor:
        block = self.model.config.exit_blocks[depth - 1]
        return state.stem if block == 0 else state.blocks[block - 1][1]

    def _start(self, x: torch.Tensor, depth: int, width: int) -> AnytimeState:
        model = self.model
        stem = model.relu(model.stem_bn(model.stem(x, width)))
        state = AnytimeState(depth=1, width=width, stem=stem)
        return self._deepen(state, depth)

    def _advance(self, x: torch.Tensor, state: AnytimeState, depth: int, width: int) -> AnytimeState:
        if width > state.width:
            return self._widen(x, state, width)
        return self._deepen(state, depth)

    def _deepen(self, state: AnytimeState, depth: int) -> AnytimeState:
        last_block = self.model.config.exit_blocks[depth - 1]
        out = state.blocks[-1][1] if state.blocks else state.stem
        for block in self.model.blocks[len(state.blocks) : last_block]:
            middle, out = block_forward(block, out)
            state.blocks.append((middle, out))
        state.depth = depth
        return state

    def _widen(self, x: torch.Tensor, state: AnytimeState, width: int) -> AnytimeState:
        model, old = self.model, state.width
        stem_new = model.relu(batchnorm_channels(model.stem_bn, conv_new_groups(model.stem, x, old, width),
                                                 old * model.stem.out_group_channels))
        previous_new, previous = stem_new, torch.cat([state.stem, stem_new], dim=1)
        state.stem = previous
        for index, (middle, output) in enumerate(state.blocks):
            block = model.blocks[index]
            middle, output_full = block_widen(block, previous, previous_new, middle, output, old, width)
            state.blocks[index] = (middle, output_full)
            previous_new, previous = output_full[:, output.shape[1]:], output_full
        state.width = width
        return state
