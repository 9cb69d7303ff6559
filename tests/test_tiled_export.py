"""Tiled convolutions: a folded cell that skips its causal zero blocks computes the same numbers with fewer MACs."""

import pytest
import torch
from conftest import randomize_batchnorm
from torch.utils.flop_counter import FlopCounterMode

from dnnet import create_model
from dnnet.accounting import cell_resources
from dnnet.cli.main import main
from dnnet.deploy.tiled_convolutions import tile_bounds, tile_convolutions
from dnnet.errors import UserError
from dnnet.slicing import fold_batchnorm, slice_subnet

CELLS = [("dnnet_resnet8_g4", {}, 4, 4), ("dnnet_resnet8_g4", {}, 2, 3), ("dnnet_resnet8_g4", {"shortcut": "project"}, 4, 4),
         ("dnnet_resnet20_g8", {}, 10, 8), ("dnnet_resnet20_g8", {}, 7, 5), ("dnnet_resnet20_g8", {}, 1, 1)]


def executed_macs(module: torch.nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:  # an independent counter: the operators the module really runs
        module(x)
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("preset, options, depth, width", CELLS)
def test_tiles_give_the_dense_cells_numbers_and_every_tile_count_costs_less(preset, options, depth, width):
    torch.manual_seed(0)
    model = randomize_batchnorm(create_model(preset, **options)).eval()
    folded = fold_batchnorm(slice_subnet(model, depth, width))
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        dense = folded(x)
        macs = []
        for tiles in range(1, width + 1):
            tiled = tile_convolutions(folded, tiles)
            torch.testing.assert_close(tiled(x), dense, rtol=1e-5, atol=1e-5)
            macs.append(executed_macs(tiled, x[:1]))
    assert macs == sorted(macs, reverse=True) and (width == 1 or macs[-1] < macs[0])
    assert macs[-1] == cell_resources(model.config, depth, width).macs  # one tile per group: exactly the MACs it needs


@pytest.mark.parametrize("width, tiles, bounds", [(4, 2, [(0, 2), (2, 4)]), (8, 3, [(0, 3), (3, 5), (5, 8)]),
                                                  (5, 5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]), (3, 1, [(0, 3)])])
def test_tiles_split_the_groups_as_evenly_as_they_can(width, tiles, bounds):
    assert tile_bounds(width, tiles) == bounds


def test_a_dense_network_and_a_bad_tile_count_are_refused():
    plain = fold_batchnorm(slice_subnet(create_model("resnet20", groups=2).eval(), 1, 2))
    with pytest.raises(UserError, match="only a channel-causal network"):
        tile_convolutions(plain, 2)
    with pytest.raises(UserError, match="tiles must be between 1 and the cell's width 4, got 0"):
        tile_bounds(4, 0)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("tiled") / "run")


def test_export_writes_a_tiled_onnx_cell_that_onnxruntime_agrees_with(run, capsys):
    pytest.importorskip("onnxruntime")
    import json

    import onnx

    out = run / "tiled.onnx"
    assert main(["export", str(run), "--cell", "4x4", "--format", "onnx", "--tiles", "2", "--out", str(out), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["max_abs_diff_vs_torch"] < 1e-4
    model = onnx.load(str(out))
    assert {prop.key: prop.value for prop in model.metadata_props}["tiles"] == "2"
    graph = model.graph
    assert sum(node.op_type == "Conv" for node in graph.node) == 1 + 2 * 2 * 3  # the stem, then 2 tiles per conv of 3 blocks
    assert main(["export", str(run), "--cell", "4x4", "--format", "pt2", "--tiles", "2", "--out", str(run / "t.pt2")]) == 2
    assert "ONNX export's option" in capsys.readouterr().err


@pytest.mark.slow
def test_the_benchmark_times_every_tile_count_of_every_cell(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("onnxruntime")
    script = Path(__file__).resolve().parents[1] / "bench" / "tiled_export.py"
    out = tmp_path / "tiled.json"
    subprocess.run([sys.executable, str(script), "--cells", "3x2", "1x1", "--tiles", "1", "2", "--batches", "1", "4",
                    "--repeats", "1", "--out", str(out)], check=True, capture_output=True)
    rows = json.loads(out.read_text())["rows"]
    assert [(r["cell"], r["tiles"], r["batch"]) for r in rows] == [("3x2", 1, 1), ("3x2", 2, 1), ("3x2", 1, 4), ("3x2", 2, 4),
                                                                   ("1x1", 1, 1), ("1x1", 1, 4)]
    assert rows[1]["executed_macs_per_image"] < rows[0]["executed_macs_per_image"] and rows[0]["ms_over_dense"] == 1.0


def test_more_tiles_than_the_cells_groups_are_refused(run, capsys):
    out = run / "too_many.onnx"
    assert main(["export", str(run), "--cell", "4x2", "--format", "onnx", "--tiles", "3", "--out", str(out)]) == 2
    assert "--tiles 3 is more than the cell's width (2 groups): a tile is at least one group" in capsys.readouterr().err
    assert not out.exists()
