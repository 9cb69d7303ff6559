"""Choosing the path an anytime walk takes through the grid: the exact best by `area`, the greedy walk, and a walk
through the static Pareto front. Pure functions of the config and a (depths, widths) accuracy grid (validation).

Every path here starts at 1x1 and ends at the full network, one group wider or one exit deeper per step. A network
whose widths are not nested (depth-only, width-conditioned) has one path: its exits at full width.
"""

from __future__ import annotations

import torch

from dnnet.accounting import grid_resources
from dnnet.anytime.path import head_macs
from dnnet.anytime.path_area import LogMacAxis, default_axis
from dnnet.config import Cell, NetConfig
from dnnet.selection import offered_cells, pareto_front


def exits_at_full_width(config: NetConfig) -> list[Cell]:
    """The one path of a network whose widths are not nested: every exit at its full width."""
    return [Cell(depth, config.groups) for depth in range(1, config.num_exits + 1)]


def area_path(config: NetConfig, accuracy: torch.Tensor, axis: LogMacAxis | None = None,
              allowed: set[Cell] | None = None) -> list[Cell]:
    """The path with the largest `path_area` on `accuracy` over `axis` (default: `default_axis`), found exactly.

    A step's cost is the MACs walked so far (`walk_costs`): the cell's layers plus the heads of every cell visited,
    so it depends on the whole walk through the heads' sum. The search carries that sum exactly: its states are
    (cell, MACs of the heads visited), and a step's contribution to the area depends only on the state it leaves
    and the state it reaches, so dynamic programming over states in order of depth + width is exact (tested against
    every monotone path of small grids). The heads are a few hundred MACs each, so a cell has at most a few thousand
    distinct sums. `allowed`: the cells a path may use (default: all). Ties go to the first path found, deeper
    steps before wider ones.
    """
    if not config.nested_widths:
        return exits_at_full_width(config)
    axis = axis or default_axis(config)
    depths, widths = config.grid_shape
    resources = {Cell(c.depth, c.width): c for c in grid_resources(config)}
    layer_macs = {cell: r.macs - head_macs(config, *cell) for cell, r in resources.items()}
    heads = {cell: head_macs(config, *cell) for cell in resources}
    score = {cell: float(accuracy[cell.depth - 1, cell.width - 1]) for cell in resources}
    usable = allowed if allowed is not None else set(resources)
    start, end = Cell(1, 1), Cell(depths, widths)
    if start not in usable or end not in usable:
        raise ValueError("a path runs from 1x1 to the full network: both must be allowed")
    # per cell: the heads' sum on arrival (its own head included) -> (area of the segments before it, previous state)
    states: dict[Cell, dict[int, tuple[float, tuple[Cell, int] | None]]] = {start: {heads[start]: (0.0, None)}}
    for diagonal in range(3, depths + widths + 1):
        for depth in range(max(1, diagonal - widths), min(depths, diagonal - 1) + 1):
            cell = Cell(depth, diagonal - depth)
            if cell not in usable:
                continue
            arrived: dict[int, tuple[float, tuple[Cell, int] | None]] = {}
            for before in (Cell(depth - 1, cell.width), Cell(depth, cell.width - 1)):
                for heads_before, (area, _) in states.get(before, {}).items():
                    reached_before = layer_macs[before] + heads_before
                    reached = layer_macs[cell] + heads_before + heads[cell]
                    total = area + score[before] * axis.share(reached_before, reached)
                    key = heads_before + heads[cell]
                    if key not in arrived or total > arrived[key][0]:
                        arrived[key] = (total, (before, heads_before))
            if arrived:
                states[cell] = arrived
    if end not in states:
        raise ValueError("no path from 1x1 to the full network runs through the allowed cells")
    finals = {key: area + score[end] * axis.share(layer_macs[end] + key, axis.high) for key, (area, _) in states[end].items()}
    key = max(finals, key=finals.__getitem__)
    path, state = [], (end, key)
    while state is not None:
        path.append(state[0])
        state = states[state[0]][state[1]][1]
    return path[::-1]


def default_path(config: NetConfig, accuracy: torch.Tensor) -> list[Cell]:
    """The path walked unless told otherwise: the exact best by `area` over the default axis (`area_path`)."""
    return area_path(config, accuracy)


def greedy_path(config: NetConfig, accuracy: torch.Tensor) -> list[Cell]:
    """From 1x1 to the full network, each step the neighbour (one wider or one deeper) with the best
    accuracy gained per MAC spent (the default before the exact search; it tends to climb the full-width exits)."""
    if not config.nested_widths:
        return exits_at_full_width(config)
    macs = {Cell(c.depth, c.width): c.macs for c in grid_resources(config)}
    cell, path = Cell(1, 1), [Cell(1, 1)]
    while cell != (config.num_exits, config.groups):
        d, w = cell
        options = [c for c in [Cell(d, w + 1), Cell(d + 1, w)] if c in macs]
        gain = {c: (accuracy[c[0] - 1, c[1] - 1] - accuracy[d - 1, w - 1]).item() / (macs[c] - macs[cell]) for c in options}
        cell = max(options, key=lambda c: (gain[c], -macs[c]))
        path.append(cell)
    return path


def front_chain(config: NetConfig, accuracy: torch.Tensor) -> list[Cell]:
    """The longest sequence of static Pareto-front cells (on `accuracy`) that one path can visit in order of MACs:
    each no shallower and no narrower than the one before (ties: the more accurate chain)."""
    front = [Cell(c.depth, c.width) for c in pareto_front(accuracy, offered_cells(config))]
    value = [float(accuracy[c.depth - 1, c.width - 1]) for c in front]
    best: list[tuple[int, float, int | None]] = []  # per front cell: (chain length, summed accuracy, previous index)
    for i, cell in enumerate(front):
        options = [(best[j][0] + 1, best[j][1] + value[i], j) for j in range(i)
                   if front[j].depth <= cell.depth and front[j].width <= cell.width]
        best.append(max(options, key=lambda o: (o[0], o[1]), default=(1, value[i], None)))
    index: int | None = max(range(len(front)), key=lambda i: (best[i][0], best[i][1]))
    chain = []
    while index is not None:
        chain.append(front[index])
        index = best[index][2]
    return chain[::-1]


def front_path(config: NetConfig, accuracy: torch.Tensor, axis: LogMacAxis | None = None) -> list[Cell]:
    """A walk through the static Pareto front: it visits `front_chain`'s cells in order, and between two of them (and
    from 1x1, and to the full network) takes the best cells by `area` within the rectangle they span."""
    if not config.nested_widths:
        return exits_at_full_width(config)
    stops = [Cell(1, 1), *front_chain(config, accuracy), Cell(*config.grid_shape)]
    allowed = {Cell(d, w) for a, b in zip(stops, stops[1:])
               for d in range(a.depth, b.depth + 1) for w in range(a.width, b.width + 1)}
    return area_path(config, accuracy, axis, allowed)

