"""Which path of cells an anytime runner walks, which layers each step computes, and what it costs.

A path starts at a cell and moves, one step at a time, either wider at the same depth or deeper at
the same width. Pure functions of the config and the resource tables: checking a path, the group ranges
each step computes, the MACs of walking a path incrementally or from scratch, and the path's logits on a
data set. Which path to walk is chosen in path_search (and named in path_choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from dnnet.accounting import cell_resources
from dnnet.accounting.counting_rules import linear_macs
from dnnet.accounting.layer_specs import exit_channels
from dnnet.config import Cell, NetConfig, cell_name
from dnnet.errors import UserError
from dnnet.models.dnnet import DNNet


def check_path(config: NetConfig, path: Sequence[tuple[int, int]]) -> list[Cell]:
    """The path as cells, each one wider (same depth) or deeper (same width) than the last; ValueError otherwise."""
    if not path:
        raise UserError("a path needs at least one cell")
    cells = [Cell(int(d), int(w)) for d, w in path]
    for depth, width in cells:
        config.check_cell(depth, width)
    for before, after in zip(cells, cells[1:]):
        wider = after.depth == before.depth and after.width > before.width
        deeper = after.width == before.width and after.depth > before.depth
        if not (wider or deeper):
            raise UserError(f"{cell_name(*before)} -> {cell_name(*after)} is not a step: "
                             "move wider at the same depth or deeper at the same width")
        if wider and not config.causal:
            raise UserError("a dense (depth-only) network cannot be widened incrementally; use a path of depths at full width")
        if wider and not config.nested_widths:
            raise UserError("a width-conditioned network changes every layer when it widens, so a computed cell cannot be "
                            "widened; use a path of depths at one width")
    return cells


# How far ahead of its cell a step of a walk may compute (`layer_ranges`). Computing several groups of a layer in one
# call costs little more time than computing one (per-call overhead at batch 1, narrow products that use the processor
# poorly at large batches), so ahead of time can mean sooner.
COMPUTE_AHEAD = ("none", "widening", "all")


def check_compute_ahead(ahead: str) -> str:
    """`ahead` if it names a schedule of `COMPUTE_AHEAD`; UserError otherwise."""
    if ahead not in COMPUTE_AHEAD:
        raise UserError(f"compute ahead must be one of {', '.join(COMPUTE_AHEAD)}, got {ahead!r}")
    return ahead


class LayerRange(NamedTuple):
    """Output groups old+1..new of one layer (0 = the stem, i > 0 = block i)."""

    layer: int
    old: int
    new: int


def layer_ranges(path: Sequence[Cell], exit_blocks: Sequence[int], ahead: str = "none") -> list[list[LayerRange]]:
    """For each cell of the path, the group ranges it computes, in order (layer by layer: a layer's groups need the
    same groups of the layer before).

    A step computes every layer up to the cell's exit that has fewer groups than the cell's width: widening
    extends the layers computed so far, deepening runs the new ones (old = 0). `ahead`: "widening" - the first step
    of a run of widening steps at one depth computes the groups of the whole run, "all" - a layer, once computed,
    has every group any later cell needs; later steps that need nothing new compute only their exit (the same
    logits: the first groups of a channel-causal layer do not depend on the others).
    """
    check_compute_ahead(ahead)
    last_blocks = [exit_blocks[depth - 1] for depth, _ in path]
    widest: dict[int, int] = {}  # per layer, the widest any cell of the path needs
    for (_, width), last_block in zip(path, last_blocks):
        for layer in range(last_block + 1):
            widest[layer] = max(widest.get(layer, 0), width)
    done = dict.fromkeys(widest, 0)
    plan = []
    for index, ((depth, width), last_block) in enumerate(zip(path, last_blocks)):
        run_end = width
        if ahead == "widening" and index > 0 and path[index - 1][0] == depth:
            run_end = max(w for d, w in path[index:] if d == depth)
        ranges = []
        for layer in range(last_block + 1):
            if done[layer] < width:
                new = widest[layer] if ahead == "all" else run_end
                ranges.append(LayerRange(layer, done[layer], new))
                done[layer] = new
        plan.append(ranges)
    return plan


@dataclass(frozen=True)
class PathCost:
    """MACs of one path, walked incrementally or cell by cell, against its last cell alone."""

    incremental_macs: int  # walking the path, reusing every activation: the last cell's layers once, plus every exit's head
    from_scratch_macs: int  # running every cell of the path on its own
    final_cell_macs: int  # running the last cell once


def head_macs(config: NetConfig, depth: int, width: int) -> int:
    """MACs of the exit classifier of cell (depth, width)."""
    return linear_macs(exit_channels(config, depth, width), config.num_classes)


def path_cost(config: NetConfig, path: Sequence[tuple[int, int]]) -> PathCost:
    """MACs of walking `path` incrementally, of running each of its cells from scratch, and of its last cell alone."""
    final = cell_resources(config, *path[-1]).macs
    layers_of_final = final - head_macs(config, *path[-1])
    return PathCost(incremental_macs=layers_of_final + sum(head_macs(config, d, w) for d, w in path),
                    from_scratch_macs=sum(cell_resources(config, d, w).macs for d, w in path), final_cell_macs=final)


@torch.no_grad()
def path_logits(model: DNNet, x: torch.Tensor, path: Sequence[tuple[int, int]], batch_size: int = 500) -> torch.Tensor:
    """(N, steps, classes): the logits of every cell of the path (for choosing a threshold), `batch_size`
    images at a time: one `forward_all`, or for a dense or width-conditioned network one pass of its exits at the path's
    width."""
    model.eval()
    rows = []
    for start in range(0, len(x), batch_size):
        images = x[start : start + batch_size]
        if model.config.nested_widths:
            every_cell = model.forward_all(images)
            rows.append(torch.stack([every_cell[:, d - 1, w - 1] for d, w in path], dim=1))
        else:  # such a path keeps one width
            exits = model.forward_exits(images, path[0][1])
            rows.append(exits[:, [d - 1 for d, _ in path]])
    return torch.cat(rows)
