"""`dnnet select` and the budgets behind it: the best cell on validation within every budget, the Pareto front, and
which budget rules out every cell when none fits."""

import json

import pytest

from dnnet import grid_resources
from dnnet.cli.main import main
from dnnet.config import NetConfig
from dnnet.evaluation import read_accuracy_grid
from dnnet.selection import Budget, BudgetError, choose, pareto_front
from dnnet.train.run_directory import read_run_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("select") / "run")


def _grid_and_val(run_dir):
    config = NetConfig.from_dict(read_run_config(run_dir)["net_config"])
    return grid_resources(config), read_accuracy_grid(run_dir, "val")




def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        Budget({"macs": 0})


def test_select_json_is_the_brute_force_best_on_validation(run_dir, capsys):
    grid, val = _grid_and_val(run_dir)
    macs_limit, memory_limit = grid[-1].macs // 2, 20_000
    fits = [c for c in grid if c.macs <= macs_limit and c.peak_act_bytes <= memory_limit]
    best = max(fits, key=lambda c: (val[c.depth - 1, c.width - 1].item(), -c.macs))
    assert main(["select", str(run_dir), "--macs", str(macs_limit), "--memory", f"{memory_limit}B", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["depth"], answer["width"], answer["macs"]) == (best.depth, best.width, best.macs)
    assert answer["val_accuracy"] == round(val[best.depth - 1, best.width - 1].item(), 6)
    assert answer["peak_act_bytes"] <= memory_limit


def test_select_explains_which_budget_rules_out_every_cell(run_dir, capsys):
    grid, _ = _grid_and_val(run_dir)
    least_params = min(c.params for c in grid)
    assert main(["select", str(run_dir), "--params", str(least_params - 1), "--macs", "1e9"]) == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"parameters <= {least_params - 1:,} rules out every cell (the least any cell needs is {least_params:,})" in err
    assert "the cheapest cell, 1x1" in err


def test_budgets_that_fail_only_together(run_dir):
    grid, val = _grid_and_val(run_dir)
    deep_narrow = next(c for c in grid if (c.depth, c.width) == (4, 1))
    shallow_wide = next(c for c in grid if (c.depth, c.width) == (1, 4))
    # each limit alone admits one of these cells; together none: 1x1 is the only cell under both, and it is excluded
    limits = {"macs": min(deep_narrow.macs, shallow_wide.macs) - 1, "params": grid[0].params - 1}
    with pytest.raises(BudgetError, match="rules out every cell"):
        choose(val, grid, Budget(limits))
    # 4x1 needs fewer MACs than 1x4 but more parameters: between the two, each limit alone admits one cell
    limits = {"macs": deep_narrow.macs, "params": shallow_wide.params}
    assert deep_narrow.params > shallow_wide.params and deep_narrow.macs < shallow_wide.macs
    with pytest.raises(BudgetError, match="each budget alone leaves some cells, but no cell meets all of them together"):
        choose(val, [deep_narrow, shallow_wide], Budget(limits))
    limits = {"largest_feature_map_values": grid[0].largest_feature_map_values, "params": shallow_wide.params - 1}
    fits = [c for c in grid if all(getattr(c, f) <= v for f, v in limits.items())]
    assert fits and choose(val, grid, Budget(limits)).cell in fits


def test_pareto_over_two_resources_is_undominated(run_dir, capsys):
    grid, val = _grid_and_val(run_dir)
    front = pareto_front(val, grid, ["macs", "peak_act_bytes"])
    acc = {(c.depth, c.width): val[c.depth - 1, c.width - 1].item() for c in grid}
    for cell in grid:
        beaten = any(acc[f.depth, f.width] >= acc[cell.depth, cell.width] and f.macs <= cell.macs
                     and f.peak_act_bytes <= cell.peak_act_bytes and f != cell
                     and (acc[f.depth, f.width] > acc[cell.depth, cell.width] or f.macs < cell.macs
                          or f.peak_act_bytes < cell.peak_act_bytes) for f in grid)
        assert beaten != (cell in front)
    assert main(["select", str(run_dir), "--macs", "1e9", "--memory", "1MiB", "--pareto", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["pareto"]
    assert [(r["cell"], r["depth"], r["width"]) for r in rows] == [(f"{c.depth}x{c.width}", c.depth, c.width) for c in front]


def test_pareto_front_under_an_impossible_budget_is_explained_like_select(run_dir, capsys):
    grid, _ = _grid_and_val(run_dir)
    least_params = min(c.params for c in grid)
    assert main(["select", str(run_dir), "--params", str(least_params - 1), "--pareto"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no cell fits" in err[0] and "parameters <= " in err[0]


def test_latency_budget_without_a_table_says_how_to_make_one(tmp_path, run_dir, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "accuracy_val.json"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    assert main(["select", str(copy), "--latency-ms", "5", "--runtime", "onnxruntime"]) == 2
    assert "dnnet latency" in capsys.readouterr().err
