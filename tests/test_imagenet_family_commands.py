"""The ImageNet family through the commands: a trained `dnnet_resnet50_g8` (2 groups, digits at 32 px) exports, times,
selects, bundles, walks anytime and saves its weights like the CIFAR presets."""

import json

import pytest
import torch

from dnnet import cell_resources
from dnnet.cli.main import main
from dnnet.models import DNNet
from dnnet.train.run_directory import load_trained_model

pytestmark = pytest.mark.slow  # trains a ResNet-50 (2 groups) for one epoch first


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """ResNet-50 with 2 groups (bottlenecks, the max-pool stem), one epoch on the digits fitted to 32 px."""
    from dnnet.train import TrainConfig, train

    run = tmp_path_factory.mktemp("imagenet_family") / "run"
    train(TrainConfig.from_flat(preset="dnnet_resnet50_g8", groups=2, data="digits", image_size=32, epochs=1,
                                batch_size=256, channels_last=False), run, show_progress=False)
    return run


def test_the_run_records_the_family(run_dir):
    net = json.loads((run_dir / "config.json").read_text())["net_config"]
    assert (net["stem"], net["block"], net["blocks_per_stage"], net["image_size"]) == ("imagenet", "bottleneck", [3, 4, 6, 3], 32)


def test_a_cell_exports_to_onnx_with_the_same_numbers(run_dir, tmp_path, capsys):
    """To float32 rounding relative to the logits' size (one epoch leaves this cell's logits in the thousands)."""
    assert main(["export", str(run_dir), "--cell", "9x1", "--format", "onnx", "--out", str(tmp_path / "cell.onnx")]) == 0
    difference = float(capsys.readouterr().out.split("largest difference ")[1].split()[0])
    model, _ = load_trained_model(run_dir)
    with torch.no_grad():
        scale = model(torch.randn(8, 3, 32, 32), 9, 1).abs().max().item()
    assert difference < 1e-5 * scale


def test_latency_then_select_answers_a_cell_under_every_budget(run_dir, capsys):
    assert main(["latency", str(run_dir), "--runtime", "eager", "--repeats", "1", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert len(table["latency_ms"]) == 17 and len(table["latency_ms"][0]) == 2  # every cell timed
    full = cell_resources(load_trained_model(run_dir)[0].config, 17, 2).macs
    assert main(["select", str(run_dir), "--macs", str(full // 2), "--latency-ms", "1000", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["macs"] <= full // 2


def test_the_anytime_walk_and_the_bundle_run(run_dir, tmp_path, capsys):
    assert main(["anytime", str(run_dir), "--images", "8", "--out", str(tmp_path / "anytime.json")]) == 0
    walked = json.loads((tmp_path / "anytime.json").read_text())
    assert walked["served"]["whole path"]["requests"] == 8 and walked["path"][-1] in ("17x2", [17, 2])
    assert main(["bundle", str(run_dir), "--out", str(tmp_path / "bundle")]) == 0
    assert (tmp_path / "bundle" / "manifest.json").is_file()


def test_the_weights_load_back_to_the_same_outputs(run_dir, tmp_path):
    assert main(["pretrained", str(run_dir), "--out", str(tmp_path / "weights")]) == 0
    model, _ = load_trained_model(run_dir)
    loaded = DNNet.from_pretrained(tmp_path / "weights")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.forward_all(x), model.eval().forward_all(x))
