"""dnnet export --quantize int8: a statically quantized ONNX cell, calibrated on the run's training images, measured
beside the float cell."""

import json

import pytest

from dnnet.cli.main import main

onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shared_run):
    return shared_run("two_epochs", tmp_path_factory.mktemp("int8") / "run")


def test_an_int8_cell_is_quantized_carries_its_metadata_and_is_measured(trained_run, tmp_path, capsys):
    out = tmp_path / "cell_int8.onnx"
    assert main(["export", str(trained_run), "--cell", "4x3", "--format", "onnx", "--quantize", "int8", "--out", str(out),
                 "--calibration-images", "64", "--json"]) == 0
    captured = capsys.readouterr()
    facts = json.loads(captured.out)
    assert [line.split(": ", 2)[-1] for line in captured.err.splitlines() if line.startswith("dnnet: int8 export of 4x3")] == [
        "reading calibration and test images ...", "quantizing ...", "measuring test accuracy and latency, float and int8 ..."]
    model = onnx.load(str(out))
    operators = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= operators
    int8_weights = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert int8_weights  # the convolution weights are stored as int8
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["dnnet_cell"] == "4x3" and metadata["dnnet_quantization"] == "int8 static (QDQ), 64 calibration images"
    assert metadata["dnnet_precision"] == "int8" and "dnnet_val_accuracy" not in metadata  # the float cell's, renamed:
    assert {"dnnet_float_val_accuracy", "dnnet_float_test_accuracy"} <= set(metadata)
    assert facts["calibration_images"] == 64 and set(facts["test_accuracy"]) == {"float", "int8"}
    assert all(0.0 <= v <= 1.0 for v in facts["test_accuracy"].values())
    assert all(v > 0 for v in facts["latency_ms_batch_1_one_thread"].values())
    assert abs(facts["test_accuracy"]["int8"] - facts["test_accuracy"]["float"]) <= 0.05  # a cell of 8 bits, not a new one


def test_int8_is_for_onnx_cells(trained_run, tmp_path, capsys):
    assert main(["export", str(trained_run), "--cell", "1x1", "--format", "pt2", "--quantize", "int8",
                 "--out", str(tmp_path / "x.pt2")]) == 2
    assert "--quantize int8 makes an ONNX cell" in capsys.readouterr().err


def test_quantized_and_float_cells_agree_on_most_test_images(trained_run, tmp_path, digits):
    from dnnet.data import normalize
    from dnnet.deploy.int8_cells import _session

    float_out, int8_out = tmp_path / "f.onnx", tmp_path / "q.onnx"
    assert main(["export", str(trained_run), "--cell", "4x4", "--format", "onnx", "--out", str(float_out)]) == 0
    assert main(["export", str(trained_run), "--cell", "4x4", "--format", "onnx", "--quantize", "int8", "--out", str(int8_out)]) == 0
    record = json.loads((trained_run / "config.json").read_text())["data"]
    x = normalize(digits.test.images, record["mean"], record["std"]).numpy()
    answers = [_session(path, 1).run(None, {"image": x})[0].argmax(1) for path in (float_out, int8_out)]
    assert (answers[0] == answers[1]).mean() >= 0.8
