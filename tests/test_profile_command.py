"""`dnnet profile`: the resources of every cell of a preset, its heatmaps and its budget summary."""

import csv
import json

import pytest

from dnnet.cli.main import main


def test_profile_writes_grid_and_heatmaps(tmp_path, capsys):
    assert main(["profile", "--preset", "dnnet_resnet32_g22", "--out", str(tmp_path), "--cells", "14x12", "--macs", "24M"]) == 0
    rows = list(csv.DictReader((tmp_path / "resources.csv").open()))
    assert len(rows) == 352
    assert (rows[-1]["depth"], rows[-1]["width"]) == ("16", "22")
    for name in ["macs", "params", "largest_feature_map_values", "peak_act_bytes"]:
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((tmp_path / "profile.json").read_text())
    assert record["budget"]["deepest_full_width"]["depth"] == 6
    assert record["provenance"]["torch"]
    printed = capsys.readouterr().out
    assert "14x12: 18.3M MACs" in printed and "fits under 24M MACs" in printed


def test_profile_budgets_a_quarter_of_the_full_network_by_default_as_demo_and_report_do(tmp_path, capsys):
    assert main(["profile", "--out", str(tmp_path)]) == 0
    assert "under 1.47M MACs: 53 of 80 cells fit" in capsys.readouterr().out


def test_train_demo_and_profile_start_from_the_same_preset():
    from dnnet.cli.demo_command import DEMO
    from dnnet.cli.main import build_parser
    from dnnet.config import DEFAULT_PRESET
    from dnnet.train import TrainConfig

    assert build_parser("profile").parse_args(["profile"]).preset == DEFAULT_PRESET == "dnnet_resnet20_g8"
    assert TrainConfig.from_flat().preset == DEMO.preset == DEFAULT_PRESET  # train's --preset falls back on TrainConfig's


def test_profile_of_the_depth_only_network_stops_at_d5(tmp_path, capsys):
    assert main(["profile", "--preset", "resnet32_anytime", "--out", str(tmp_path), "--macs", "24M"]) == 0
    assert "deepest exit at full width: 5x16 (19.3M MACs)" in capsys.readouterr().out


def test_profile_errors_are_one_line(tmp_path, capsys):
    assert main(["profile", "--preset", "nope", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "dnnet profile: error: unknown preset 'nope'; known presets: dnnet_resnet18_g8, dnnet_resnet20_g8, dnnet_resnet32_g22, "
        "dnnet_resnet50_g8, dnnet_resnet8_g4, resnet18, resnet18_anytime, resnet20, resnet20_anytime, resnet32, "
        "resnet32_anytime, resnet50, resnet50_anytime"
    ]
    assert main(["profile", "--out", str(tmp_path), "--cells", "11x1"]) == 2
    assert "depth must be an integer in 1..10" in capsys.readouterr().err


def test_without_out_profile_prints_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "--preset", "dnnet_resnet8_g4"]) == 0
    assert list(tmp_path.iterdir()) == [] and "wrote" not in capsys.readouterr().out


def test_the_old_flag_name_still_works_and_says_the_new_one(tmp_path, capsys):
    assert main(["profile", "--preset", "dnnet_resnet8_g4", "--macs-budget", "50%"]) == 0
    captured = capsys.readouterr()
    assert "dnnet: --macs-budget is now --macs" in captured.err and "under 286K MACs" in captured.out


def test_the_imagenet_presets_are_counted_at_the_size_asked(capsys):
    """At 224 px the dense ResNet-18 is torchvision's (1.81G MACs); at 112 px a quarter of its convolutions' MACs."""
    assert main(["profile", "--preset", "resnet18", "--image-size", "224", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["config"]["image_size"] == 224 and record["config"]["stem"] == "imagenet"
    assert main(["profile", "--preset", "dnnet_resnet18_g8", "--image-size", "224"]) == 0
    assert "full network 1.07G MACs needed (1.81G dense)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:  # a usage error, as argparse stops
        main(["profile", "--preset", "resnet18", "--image-size", "7"])
    assert stopped.value.code == 2 and "image_size must be an integer from 8 to" in capsys.readouterr().err
