"""`dnnet export`: one cell as ONNX, torch.export or safetensors, with the same numbers as in torch, its
preprocessing, resources and accuracy, never over the run's own files."""

import json
import subprocess
import sys

import pytest
import torch

from dnnet.cli.main import main
from dnnet.slicing import slice_subnet
from dnnet.train.run_directory import load_trained_model


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("export") / "run")


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
