"""`dnnet bundle`: the validation Pareto cells as ONNX files with a manifest; its selector runs in a process where
neither torch nor dnnet can be imported, and answers as the sliced cells do."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from dnnet.cli.main import main
from dnnet.data import load_data, normalize
from dnnet.evaluation import read_accuracy_grid
from dnnet.selection import offered_cells, pareto_front
from dnnet.slicing import slice_subnet
from dnnet.train.run_directory import load_trained_model


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, shared_run):
    root = tmp_path_factory.mktemp("bundle")
    shared_run("two_epochs", root / "run")
    assert main(["bundle", str(root / "run"), "--out", str(root / "bundle")]) == 0
    return root


def test_the_bundle_holds_the_validation_pareto_cells_with_their_facts(bundle):
    manifest = json.loads((bundle / "bundle" / "manifest.json").read_text())
    model, record = load_trained_model(bundle / "run")
    val = read_accuracy_grid(bundle / "run", "val")
    front = pareto_front(val, offered_cells(model.config), ("macs", "peak_act_bytes"))
    assert [(c["depth"], c["width"]) for c in manifest["cells"]] == [(c.depth, c.width) for c in front]
    for cell in manifest["cells"]:
        assert hashlib.sha256((bundle / "bundle" / cell["file"]).read_bytes()).hexdigest() == cell["sha256"]
        assert (bundle / "bundle" / cell["file"]).stat().st_size == cell["bytes"]  # checked by the selector before it hashes
        assert cell["val_accuracy"] == float(val[cell["depth"] - 1, cell["width"] - 1])
    assert manifest["preprocessing"]["mean"] == record["data"]["mean"]
    assert (bundle / "bundle" / "select_cell.py").is_file()


def test_the_selector_needs_neither_torch_nor_dnnet_and_answers_as_the_cell(bundle):
    data = load_data("digits")
    images = data.test.images[:20].numpy()
    np.save(bundle / "images.npy", images)
    manifest = json.loads((bundle / "bundle" / "manifest.json").read_text())
    budget = sorted(cell["macs"] for cell in manifest["cells"])[len(manifest["cells"]) // 2]
    argv = ["select_cell.py", str(bundle / "bundle"), "--macs", str(budget), "--images", str(bundle / "images.npy")]
    script = ("import sys; sys.modules['torch'] = None; sys.modules['dnnet'] = None\n"
              f"sys.argv = {argv!r}\n"
              f"exec(open({str(bundle / 'bundle' / 'select_cell.py')!r}).read())\n")
    printed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    chosen = max((c for c in manifest["cells"] if c["macs"] <= budget), key=lambda c: c["val_accuracy"])
    assert printed[0].startswith(f"cell {chosen['cell']} ")
    model, record = load_trained_model(bundle / "run")
    with torch.no_grad():
        logits = slice_subnet(model, chosen["depth"], chosen["width"]).eval()(
            normalize(torch.from_numpy(images), record["data"]["mean"], record["data"]["std"]))
    assert printed[1].split() == [record["data"]["classes"][i] for i in logits.argmax(1).tolist()]


def test_a_changed_cell_file_is_refused(bundle, tmp_path):
    import shutil

    from dnnet.deploy import bundle_selector

    copy = tmp_path / "bundle"
    shutil.copytree(bundle / "bundle", copy)
    manifest = bundle_selector.read_manifest(copy)
    path = copy / manifest["cells"][0]["file"]
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # the same size: only the hash can tell
    with pytest.raises(ValueError, match="does not match its sha256"):
        bundle_selector.classify(copy, np.zeros((1, 3, 16, 16), np.uint8), {"macs": manifest["cells"][0]["macs"]})
    path.write_bytes(original + b"\0")
    with pytest.raises(ValueError, match=f"is {len(original) + 1} bytes, manifest.json records {len(original)}"):
        bundle_selector.classify(copy, np.zeros((1, 3, 16, 16), np.uint8), {"macs": manifest["cells"][0]["macs"]})
    with pytest.raises(ValueError, match="no cell fits: MACs <= 1 rules out every cell"):
        bundle_selector.choose(manifest, {"macs": 1})


def test_the_bundle_goes_into_a_new_folder(bundle, capsys):
    assert main(["bundle", str(bundle / "run"), "--out", str(bundle / "bundle")]) == 2
    assert "is not an empty folder" in capsys.readouterr().err


def test_a_runs_onnxruntime_latency_table_goes_into_the_manifest(bundle, tmp_path):
    """The plumbing only: a table written here (each cell's value is 10 * depth + width) is copied per cell."""
    import shutil

    from dnnet.deploy.latency import write_latency

    run = tmp_path / "run"
    shutil.copytree(bundle / "run", run)
    table = torch.tensor([[10.0 * d + w for w in range(1, 5)] for d in range(1, 5)])
    write_latency(run, "onnxruntime", table, {"batch": 1, "threads": 1})
    assert main(["bundle", str(run), "--out", str(tmp_path / "bundle")]) == 0
    for cell in json.loads((tmp_path / "bundle" / "manifest.json").read_text())["cells"]:
        assert cell["latency_ms_onnxruntime"] == 10.0 * cell["depth"] + cell["width"]
        assert cell["latency_measured_on"]["batch"] == 1 and cell["latency_measured_on"]["machine"]
    assert "latency_ms_onnxruntime" not in json.loads((bundle / "bundle" / "manifest.json").read_text())["cells"][0]


def test_an_int8_bundle_holds_quantized_cells_measured_as_int8(bundle, capsys):
    onnx = pytest.importorskip("onnx")
    from dnnet.deploy.int8_cells import onnx_accuracy

    out = bundle / "bundle_int8"
    assert main(["bundle", str(bundle / "run"), "--out", str(out), "--int8", "--calibration-images", "64"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    floats = json.loads((bundle / "bundle" / "manifest.json").read_text())["cells"]
    assert [c["cell"] for c in manifest["cells"]] == [c["cell"] for c in floats]  # the same Pareto cells, chosen in float
    data = load_data("digits")
    record = json.loads((bundle / "run" / "config.json").read_text())["data"]
    val = normalize(data.val.images, record["mean"], record["std"]).numpy()
    for cell, float_cell in zip(manifest["cells"], floats):
        assert cell["precision"] == "int8" and cell["file"] == f"{cell['cell']}_int8.onnx"
        assert "QuantizeLinear" in {node.op_type for node in onnx.load(str(out / cell["file"])).graph.node}
        assert cell["val_accuracy_float"] == float_cell["val_accuracy"]
        assert cell["val_accuracy"] == onnx_accuracy(out / cell["file"], val, data.val.labels.numpy())
