"""Choosing cells: the best cell within a budget, ties, and the Pareto front."""

import pytest
import torch

from dnnet import create_model, grid_resources
from dnnet.selection import Budget, best_within, cells_within, offered_cells, pareto_front

GRID = grid_resources(create_model("dnnet_resnet8_g4").config)  # 4 x 4 cells, MACs rising with depth and width


def test_best_within_picks_the_most_accurate_fitting_cell():
    accuracy = torch.zeros(4, 4, dtype=torch.float64)
    accuracy[3, 3], accuracy[2, 1], accuracy[1, 3], accuracy[2, 0] = 0.9, 0.8, 0.7, 0.6
    full = GRID[-1].macs
    choice = best_within(accuracy, GRID, {"macs": full})
    assert (choice.cell.depth, choice.cell.width, choice.accuracy) == (4, 4, 0.9)
    budget = GRID[2 * 4 + 1].macs  # the cost of 3x2
    choice = best_within(accuracy, GRID, {"macs": budget})
    assert (choice.cell.depth, choice.cell.width) == (3, 2)
    assert best_within(accuracy, GRID, {"macs": GRID[0].macs - 1}) is None
    # 3x2 (348 params) and 2x4 (362) are over 200 params: 3x1 (143 params, 59,924 MACs) is the best left
    both = best_within(accuracy, GRID, {"macs": 300_000, "params": 200})
    assert (both.cell.depth, both.cell.width, both.accuracy) == (3, 1, 0.6)


def test_ties_go_to_the_cheaper_cell():
    choice = best_within(torch.full((4, 4), 0.5, dtype=torch.float64), GRID, {"macs": GRID[-1].macs})
    assert choice.cell.macs == min(c.macs for c in GRID)


def test_pareto_front_is_monotone_and_undominated():
    accuracy = torch.rand(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    front = pareto_front(accuracy, GRID)
    values = [accuracy[c.depth - 1, c.width - 1].item() for c in front]
    assert values == sorted(values) and len(set(values)) == len(values)
    for cell in GRID:
        acc = accuracy[cell.depth - 1, cell.width - 1].item()
        dominated = any(f.macs <= cell.macs and accuracy[f.depth - 1, f.width - 1].item() > acc for f in front)
        assert dominated or cell in front


def test_a_dense_network_offers_its_full_width_only():
    causal = create_model("dnnet_resnet8_g4").config
    dense = create_model("resnet20_anytime").config
    assert offered_cells(causal) == GRID
    assert [(c.depth, c.width) for c in offered_cells(dense)] == [(d, dense.groups) for d in range(1, dense.num_exits + 1)]


def test_pareto_front_keeps_equal_cells_and_drops_a_costlier_equal():
    accuracy = torch.zeros(4, 4, dtype=torch.float64)
    accuracy[0, 0], accuracy[0, 1], accuracy[1, 0] = 0.5, 0.5, 0.7  # 1x2 costs more than 1x1 for the same accuracy
    front = pareto_front(accuracy, GRID[:2] + GRID[4:5])
    assert [(c.depth, c.width) for c in front] == [(1, 1), (2, 1)]


def test_budget_names_its_resources():
    with pytest.raises(ValueError, match="unknown resource 'flops'"):
        Budget({"flops": 1e6})
    assert cells_within(GRID, {"macs": GRID[0].macs}) == [GRID[0]]
