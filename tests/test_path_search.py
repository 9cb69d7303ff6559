"""Choosing the anytime path: the exact search by `area` against every monotone path, the greedy and Pareto-front walks,
the area measure itself, and a path named on the command line."""

import itertools
import math

import pytest
import torch

from dnnet import cell_resources, create_model
from dnnet.anytime.budgeted import stop_costs
from dnnet.anytime.path import head_macs, path_cost
from dnnet.anytime.path_area import LogMacAxis, default_axis, front_area, front_curve, path_area, step_curve_area, walk_costs
from dnnet.anytime.path_choice import choose_path, parse_path
from dnnet.anytime.path_search import area_path, front_chain, front_path, greedy_path
from dnnet.config import Cell
from dnnet.errors import UserError
from dnnet.selection import offered_cells, pareto_front


def every_monotone_path(depths: int, widths: int) -> list[list[Cell]]:
    """Every path from 1x1 to the full network, one exit deeper or one group wider per step."""
    steps = depths + widths - 2
    paths = []
    for deeper_at in itertools.combinations(range(steps), depths - 1):
        depth, width, path = 1, 1, [Cell(1, 1)]
        for step in range(steps):
            depth, width = (depth + 1, width) if step in deeper_at else (depth, width + 1)
            path.append(Cell(depth, width))
        paths.append(path)
    return paths


def random_grid(shape, seed):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


CONFIGS = {
    "4x4": create_model("dnnet_resnet8_g4").config,
    "4x4, 1000 classes (heads as large as layers)": create_model("dnnet_resnet8_g4", num_classes=1000).config,
    "10x4": create_model("dnnet_resnet20_g8", groups=4).config,
}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", CONFIGS)
def test_the_search_finds_the_best_of_every_monotone_path(name, seed):
    config = CONFIGS[name]
    accuracy = random_grid(config.grid_shape, seed)
    best = max(path_area(config, accuracy, path) for path in every_monotone_path(*config.grid_shape))
    found = area_path(config, accuracy)
    assert found[0] == (1, 1) and found[-1] == config.grid_shape
    assert path_area(config, accuracy, found) == best


@pytest.mark.parametrize("seed", [4, 24, 73])  # grids on which leaving the earlier heads out chooses a worse path
def test_the_search_counts_the_heads_of_every_cell_visited(seed):
    config = CONFIGS["4x4, 1000 classes (heads as large as layers)"]
    accuracy, axis = random_grid(config.grid_shape, seed), default_axis(config)
    paths = every_monotone_path(*config.grid_shape)

    def area_without_earlier_heads(path):
        return step_curve_area([cell_resources(config, *c).macs for c in path], [float(accuracy[d - 1, w - 1]) for d, w in path], axis)

    without_heads = max(paths, key=area_without_earlier_heads)
    best = max(path_area(config, accuracy, path) for path in paths)
    assert path_area(config, accuracy, without_heads) < best
    assert path_area(config, accuracy, area_path(config, accuracy)) == best


@pytest.mark.parametrize("seed", range(3))
def test_the_search_on_a_part_of_the_axis_and_through_allowed_cells_only(seed):
    config = CONFIGS["10x4"]
    accuracy = random_grid(config.grid_shape, seed)
    axis = LogMacAxis(2e5, 1e6)  # budgets in the middle of the grid only
    allowed = {Cell(d, w) for d in range(1, 11) for w in range(1, 5) if w == 1 or d >= 7}
    paths = [p for p in every_monotone_path(*config.grid_shape) if set(p) <= allowed]
    best = max(path_area(config, accuracy, p, axis) for p in paths)
    found = area_path(config, accuracy, axis, allowed)
    assert set(found) <= allowed and path_area(config, accuracy, found, axis) == best


def test_the_search_deepens_the_narrow_cells_when_they_beat_the_wide_middle_exits():
    config = CONFIGS["10x4"]
    accuracy = torch.full(config.grid_shape, 0.2, dtype=torch.float64)
    accuracy[:, 0] = torch.linspace(0.3, 0.6, 10, dtype=torch.float64)  # the narrowest width gains with every exit
    accuracy[9] = torch.tensor([0.6, 0.7, 0.8, 0.9], dtype=torch.float64)  # the last exit gains with every group
    assert area_path(config, accuracy) == [(d, 1) for d in range(1, 11)] + [(10, w) for w in range(2, 5)]


def test_a_network_without_nested_widths_has_its_exits_as_its_one_path():
    config = create_model("resnet20_anytime").config
    accuracy = random_grid(config.grid_shape, 0)
    expected = [(d, config.groups) for d in range(1, config.num_exits + 1)]
    assert area_path(config, accuracy) == greedy_path(config, accuracy) == front_path(config, accuracy) == expected


def test_greedy_takes_the_best_gain_per_mac():
    config = create_model("dnnet_resnet8_g4").config
    accuracy = torch.zeros(4, 4, dtype=torch.float64)
    accuracy[:, 1:] = 0.5  # widening pays; deepening alone does not
    accuracy[3, 3] = 0.9
    path = greedy_path(config, accuracy)
    assert path[0] == (1, 1) and path[1] == (1, 2) and path[-1] == (4, 4)
    assert all(b in [(a[0], a[1] + 1), (a[0] + 1, a[1])] for a, b in zip(path, path[1:]))
    assert len(path) == 7


@pytest.mark.parametrize("seed", range(4))
def test_the_front_walk_visits_the_longest_chain_of_front_cells(seed):
    config = CONFIGS["10x4"]
    accuracy = random_grid(config.grid_shape, seed)
    front = [(c.depth, c.width) for c in pareto_front(accuracy, offered_cells(config))]
    chain = front_chain(config, accuracy)
    assert all(cell in front for cell in chain)
    assert all(a.depth <= b.depth and a.width <= b.width for a, b in zip(chain, chain[1:]))
    longest = max(sum(c in front for c in dict.fromkeys(p)) for p in every_monotone_path(*config.grid_shape))
    assert len(chain) == longest
    walk = front_path(config, accuracy)
    assert [c for c in walk if c in chain] == chain


def test_the_area_of_a_step_curve():
    axis = LogMacAxis(1.0, math.e ** 2)
    assert step_curve_area([1.0, math.e], [0.5, 1.0], axis) == 0.75
    assert step_curve_area([math.e], [1.0], axis) == 0.5  # nothing before the first answer
    assert step_curve_area([0.5, math.e ** 3], [0.4, 1.0], axis) == 0.4  # clipped to the axis at both ends
    with pytest.raises(ValueError, match="low < high"):
        LogMacAxis(5.0, 5.0)


def test_walk_costs_are_the_stop_costs_of_budgeted_classification():
    config = create_model("dnnet_resnet20_g8").config
    path = [(1, 1), (1, 2), (2, 2), (3, 2), (3, 3)]
    costs = walk_costs(config, path)
    assert costs == [path_cost(config, path[: k + 1]).incremental_macs for k in range(len(path))]
    assert stop_costs(config, path).tolist() == costs
    assert costs[1] - costs[0] == cell_resources(config, 1, 2).macs - cell_resources(config, 1, 1).macs + head_macs(config, 1, 1)


def test_the_front_is_the_best_cell_under_each_budget():
    config = CONFIGS["10x4"]
    val, test = random_grid(config.grid_shape, 0), random_grid(config.grid_shape, 1)
    macs, accuracies = front_curve(config, val, test)
    cells = offered_cells(config)
    for budget, accuracy in zip(macs, accuracies):
        best = max((c for c in cells if c.macs <= budget), key=lambda c: (val[c.depth - 1, c.width - 1], -c.macs))
        assert accuracy == test[best.depth - 1, best.width - 1]
    # no walk beats the front on the grid it was chosen with
    assert path_area(config, val, area_path(config, val)) <= front_area(config, val, val)


def test_a_path_by_name_or_by_its_cells():
    config = CONFIGS["10x4"]
    accuracy = random_grid(config.grid_shape, 3)
    assert choose_path(config, accuracy).cells == choose_path(config, accuracy, "area").cells == area_path(config, accuracy)
    assert choose_path(config, accuracy, "auto").rule == "area"
    greedy = choose_path(config, accuracy, "greedy")
    assert greedy.cells == greedy_path(config, accuracy) and greedy.area_val == path_area(config, accuracy, greedy.cells)
    explicit = choose_path(config, accuracy, parse_path("1x1,2x1,2x2,10x2,10x4"))
    assert explicit.rule == "explicit" and explicit.cells == [(1, 1), (2, 1), (2, 2), (10, 2), (10, 4)]
    assert explicit.to_dict()["cells"] == ["1x1", "2x1", "2x2", "10x2", "10x4"]
    with pytest.raises(UserError, match="not a step"):
        choose_path(config, accuracy, [(1, 1), (2, 2)])
    with pytest.raises(UserError, match="a path is auto, area, greedy, front"):
        choose_path(config, accuracy, "fastest")


@pytest.mark.parametrize("text", ["fastest", "", "1x1,,banana", "1x1;2x1"])
def test_a_misspelt_path_says_how_to_write_one(text):
    with pytest.raises(UserError, match="a path is auto, area, greedy, front, or cells joined by commas"):
        parse_path(text)


def test_the_runner_walks_a_path_chosen_by_rule_from_a_validation_grid():
    from dnnet.anytime import AnytimeRunner

    model = create_model("dnnet_resnet8_g4", image_size=8)
    accuracy = random_grid(model.config.grid_shape, 5)
    runner = AnytimeRunner(model, "auto", accuracy=accuracy)
    assert runner.path == area_path(model.config, accuracy) and runner.chosen_path.rule == "area"
    assert AnytimeRunner(model, "greedy", accuracy=accuracy).path == greedy_path(model.config, accuracy)
    with pytest.raises(UserError, match="needs the validation accuracy grid"):
        AnytimeRunner(model)
    depth_only = create_model("resnet20_anytime", groups=2, image_size=8)
    assert AnytimeRunner(depth_only).path == [(d, 2) for d in range(1, 11)]
