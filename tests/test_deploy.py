import json
import subprocess
import sys

import pytest
import torch

from dnnet import grid_resources
from dnnet.cli.main import main
from dnnet.config import NetConfig
from dnnet.evaluation import read_accuracy_grid
from dnnet.selection import Budget, BudgetError, choose, pareto_front
from dnnet.slicing import slice_subnet
from dnnet.train.run_directory import load_trained_model, read_run_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("deploy") / "demo"
    assert main(["demo", "--out", str(out), "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--quiet"]) == 0
    return out


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


@pytest.mark.parametrize("runtime", ["eager", "onnxruntime", "onnxruntime-int8"])
def test_latency_table_is_stored_and_used_by_select(run_dir, capsys, runtime):
    assert main(["latency", str(run_dir), "--repeats", "2", "--runtime", runtime]) == 0
    record = json.loads((run_dir / f"latency_{runtime}.json").read_text())
    assert record["runtime"] == runtime and record["batch"] == 1 and record["threads"] == 1
    assert "machine" in record["provenance"]
    table = torch.tensor(record["milliseconds"])
    assert table.shape == (4, 4) and bool((table > 0).all())
    capsys.readouterr()
    limit = table.median().item()
    assert main(["select", str(run_dir), "--latency-ms", str(limit), "--runtime", runtime, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["latency_ms"] <= limit + 1e-4
    assert main(["select", str(run_dir), "--latency-ms", str(table.min().item() / 2), "--runtime", runtime]) == 4
    assert "latency_ms" in capsys.readouterr().err


def test_a_latency_batch_beyond_the_machines_memory_is_one_line(run_dir, capsys):
    """--batch 100000000 was an allocator traceback asking for 300 GB."""
    capsys.readouterr()
    assert main(["latency", str(run_dir), "--batch", "100000000", "--repeats", "1"]) == 2
    err = capsys.readouterr().err
    assert "--batch 100000000 needs about" in err and "use a smaller --batch" in err and err.count("\n") == 1


@pytest.mark.parametrize("threads", ["0", "99999"])  # 99999 made the thread pool crash the process (exit 139)
def test_latency_threads_are_bounded_by_the_cores(run_dir, capsys, threads):
    import os

    capsys.readouterr()
    assert main(["latency", str(run_dir), "--threads", threads]) == 2
    assert capsys.readouterr().err == (f"dnnet latency: error: --threads must be between 1 and this machine's {os.cpu_count()} "
                                       f"cores, got {threads}\n")


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


def test_export_onnx_matches_torch(run_dir, tmp_path, capsys):
    out = tmp_path / "cell.onnx"
    assert main(["export", str(run_dir), "--cell", "3x2", "--format", "onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    difference = float(printed.split("largest difference ")[1].split()[0])
    assert difference < 1e-4


def test_export_pt2_loads_without_dnnet(run_dir, tmp_path):
    out = tmp_path / "cell.pt2"
    assert main(["export", str(run_dir), "--cell", "2x3", "--format", "pt2", "--out", str(out)]) == 0
    model, record = load_trained_model(run_dir)
    x = torch.randn(3, *record["data"]["image_shape"], generator=torch.Generator().manual_seed(1))
    torch.save(x, tmp_path / "x.pt")
    with torch.no_grad():
        expected = model.eval().forward_all(x)[:, 1, 2]
    # a fresh interpreter that cannot import dnnet loads the program and runs it
    script = ("import sys; sys.modules['dnnet'] = None\n"
              "import torch\n"
              f"program = torch.export.load({str(out)!r}).module()\n"
              f"x = torch.load({str(tmp_path / 'x.pt')!r})\n"
              f"torch.save(program(x), {str(tmp_path / 'y.pt')!r})\n")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    assert torch.allclose(torch.load(tmp_path / "y.pt"), expected, atol=1e-5)


def test_export_safetensors_holds_the_slice_and_its_architecture(run_dir, tmp_path):
    from safetensors import safe_open

    out = tmp_path / "cell.safetensors"
    assert main(["export", str(run_dir), "--cell", "4x1", "--format", "safetensors", "--out", str(out)]) == 0
    model, _ = load_trained_model(run_dir)
    subnet = slice_subnet(model, 4, 1)
    with safe_open(str(out), "pt") as f:
        arch = json.loads(f.metadata()["dnnet_arch"])
        assert (arch["depth"], arch["width"]) == (4, 1)
        assert set(f.keys()) == set(subnet.state_dict())
        for name, value in subnet.state_dict().items():
            assert torch.equal(f.get_tensor(name), value)


def test_export_refuses_a_cell_outside_the_grid(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--cell", "5x1", "--format", "pt2", "--out", str(tmp_path / "x")]) == 2
    assert "depth" in capsys.readouterr().err


@pytest.mark.parametrize("name,fmt", [("checkpoint.pt", "pt2"), ("config.json", "onnx"), ("accuracy_val.json", "safetensors"),
                                      ("metrics.csv", "onnx"), (".", "onnx")])
def test_export_never_replaces_the_runs_own_files(run_dir, capsys, name, fmt):
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert main(["export", str(run_dir), "--cell", "1x1", "--format", fmt, "--out", str(run_dir / name)]) == 2
    assert "--out" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before


def test_export_into_the_run_directory_with_the_formats_suffix_is_allowed(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert main(["export", str(copy), "--cell", "1x1", "--format", "safetensors",
                 "--out", str(copy / "d1w1.safetensors")]) == 0


@pytest.mark.parametrize("fmt", ["onnx", "safetensors", "pt2"])
def test_every_export_carries_the_preprocessing_the_cell_its_resources_and_accuracy(run_dir, tmp_path, fmt):
    out = tmp_path / f"cell.{fmt}"
    assert main(["export", str(run_dir), "--cell", "3x2", "--format", fmt, "--out", str(out)]) == 0
    if fmt == "onnx":
        import onnx

        model = onnx.load(str(out))
        onnx.checker.check_model(model, full_check=True)
        metadata = {prop.key: prop.value for prop in model.metadata_props}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cell.onnx"]  # no .onnx.data beside it
    elif fmt == "safetensors":
        from safetensors import safe_open

        with safe_open(str(out), "pt") as f:
            metadata = f.metadata()
    else:
        extra = {"dnnet.json": ""}
        torch.export.load(out, extra_files=extra)
        metadata = json.loads(extra["dnnet.json"])
    record = json.loads((run_dir / "config.json").read_text())
    val = json.loads((run_dir / "accuracy_val.json").read_text())["accuracy"]
    assert metadata["dnnet_cell"] == "3x2"
    assert json.loads(metadata["dnnet_preprocessing"])["mean"] == record["data"]["mean"]
    assert json.loads(metadata["dnnet_resources"])["macs"] > 0
    assert float(metadata["dnnet_val_accuracy"]) == val[2][1]
    assert json.loads(metadata["dnnet_arch"])["depth"] == 3


def test_an_onnx_export_without_the_extra_is_one_line(run_dir, tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    out = tmp_path / "cell.onnx"
    assert main(["export", str(run_dir), "--cell", "1x1", "--format", "onnx", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == ("dnnet export: error: an ONNX export needs onnxruntime: "
                                               "pip install 'doubly-nested-networks[export]'")
    assert not out.exists()
