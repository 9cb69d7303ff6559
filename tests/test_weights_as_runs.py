"""select, export and bundle take a weights folder or a preset with shipped weights as they take a run: the same
answers from the same network; commands that need a run say how to use weights instead."""

import json

import pytest

from dnnet.cli.main import main


@pytest.fixture(scope="module")
def run_and_weights(tmp_path_factory, shared_run):
    root = tmp_path_factory.mktemp("weights_as_runs")
    run = shared_run("two_epochs", root / "run")
    assert main(["pretrained", str(run), "--out", str(root / "weights")]) == 0
    assert main(["pretrained", str(run), "--out", str(root / "cell"), "--cell", "2x2"]) == 0
    return run, root / "weights", root


def answer(capsys, argv):
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("budget", [["--macs", "50%"], ["--macs", "10%", "--memory", "16KiB"], ["--pareto"]])
def test_select_answers_alike_from_the_run_and_from_its_weights(run_and_weights, capsys, budget):
    run, weights, _ = run_and_weights
    assert answer(capsys, ["select", str(weights), *budget]) == answer(capsys, ["select", str(run), *budget])


def test_export_and_bundle_give_the_same_cells_from_the_weights(run_and_weights, capsys):
    pytest.importorskip("onnxruntime")
    run, weights, root = run_and_weights
    from_run = answer(capsys, ["export", str(run), "--cell", "3x2", "--format", "onnx", "--out", str(root / "a.onnx")])
    from_weights = answer(capsys, ["export", str(weights), "--cell", "3x2", "--format", "onnx", "--out", str(root / "b.onnx")])
    assert from_weights["metadata"] == from_run["metadata"]  # preprocessing, resources, val and test accuracy
    assert (root / "a.onnx").read_bytes() == (root / "b.onnx").read_bytes()
    bundles = [answer(capsys, ["bundle", str(source), "--out", str(root / f"bundle_{name}")])
               for name, source in (("run", run), ("weights", weights))]
    assert bundles[0]["cells"] == bundles[1]["cells"]


def test_a_preset_name_stands_for_its_shipped_weights(capsys):
    from dnnet.models.pretrained_files import read_pretrained_record
    from dnnet.models.shipped_weights import shipped_weights_folder

    chosen = answer(capsys, ["select", "dnnet_resnet20_g8", "--macs", "25%"])
    val = read_pretrained_record(shipped_weights_folder("dnnet_resnet20_g8"))["provenance"]["validation_accuracy"]
    assert chosen["val_accuracy"] == round(val["every_cell"][chosen["depth"] - 1][chosen["width"] - 1], 6)
    assert main(["eval", "--weights", "dnnet_resnet20_g8", "--data", "digits"]) == 2  # found, then refused for its data
    assert "has images of shape (3, 16, 16); the network takes (3, 32, 32)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["select", "{cell}", "--macs", "50%"], "holds one cell (a SubNet), not a whole DNNet"),
    (["eval", "{weights}"], "is a weights folder, not a run: this command reads a run"),
    (["latency", "{weights}"], "is a weights folder, not a run"),
])
def test_what_cannot_be_done_with_weights_is_one_line(run_and_weights, capsys, argv, message):
    _, weights, root = run_and_weights
    assert main([part.format(weights=weights, cell=root / "cell") for part in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_weights_that_record_no_validation_grid_say_how_to_get_one(run_and_weights, tmp_path, capsys):
    import shutil

    _, weights, _ = run_and_weights
    old = shutil.copytree(weights, tmp_path / "old")
    record = json.loads((old / "config.json").read_text())
    del record["provenance"]["validation_accuracy"]  # as folders written before it was recorded
    (old / "config.json").write_text(json.dumps(record))
    assert main(["select", str(old), "--macs", "50%"]) == 2
    assert "records no validation accuracy" in capsys.readouterr().err
