"""A trained network as a folder to share: saved and loaded without pickle, exact, with its preprocessing and
provenance; damaged or foreign folders are one line naming the file."""

import json

import pytest
import torch
from conftest import randomize_batchnorm

from dnnet import DNNet, SubNet, create_model, load_subnet, slice_subnet
from dnnet.cli.main import main
from dnnet.errors import UserError
from dnnet.train import TrainConfig, train

PREPROCESSING = {"mean": [0.5, 0.4, 0.3], "std": [0.25, 0.25, 0.25], "image_size": [8, 8], "classes": list("abcdefghij")}


@pytest.fixture
def model():
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True)
    randomize_batchnorm(model)
    return model.eval()


def test_a_dnnet_round_trips_exactly(tmp_path, model):
    model.save_pretrained(tmp_path / "net", PREPROCESSING, {"data": "test"})
    loaded = DNNet.from_pretrained(tmp_path / "net")
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(loaded.forward_all(x), model.forward_all(x)) and not loaded.training
    assert loaded.config == model.config
    record = json.loads((tmp_path / "net" / "config.json").read_text())
    assert record["preprocessing"] == PREPROCESSING and record["provenance"]["data"] == "test"
    assert record["provenance"]["dnnet_version"] and sorted(p.name for p in (tmp_path / "net").iterdir()) == [
        "README.md", "config.json", "model.safetensors"]


@pytest.mark.parametrize("depth,width", [(1, 1), (2, 3), (4, 4)])
def test_a_cell_round_trips_and_load_subnet_reads_it(tmp_path, model, depth, width):
    subnet = slice_subnet(model, depth, width).eval()
    subnet.save_pretrained(tmp_path / "cell")
    x = torch.randn(2, 3, 8, 8)
    for loaded in (SubNet.from_pretrained(tmp_path / "cell"), load_subnet(tmp_path / "cell")):
        assert (loaded.depth, loaded.width) == (depth, width) and torch.equal(loaded(x), subnet(x))


def test_asking_for_the_other_kind_is_refused(tmp_path, model):
    model.save_pretrained(tmp_path / "net")
    with pytest.raises(UserError, match="holds a whole DNNet, not a SubNet"):
        SubNet.from_pretrained(tmp_path / "net")
    with pytest.raises(UserError, match="holds a whole DNNet, not a SubNet"):
        load_subnet(tmp_path / "net")
    slice_subnet(model, 2, 2).save_pretrained(tmp_path / "cell")
    with pytest.raises(UserError, match="holds one cell \\(a SubNet\\), not a DNNet"):
        DNNet.from_pretrained(tmp_path / "cell")


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "model.safetensors").write_bytes(b"\0" * 10), "not a safetensors file"),
    (lambda d: (d / "model.safetensors").unlink(), "model.safetensors not found"),
    (lambda d: (d / "config.json").write_text("{not json"), "is not valid JSON"),
    (lambda d: (d / "config.json").write_text('{"format": "other"}'), "is not a pretrained network's config"),
])
def test_a_damaged_folder_is_one_line_naming_the_file(tmp_path, model, damage, message):
    model.save_pretrained(tmp_path / "net")
    damage(tmp_path / "net")
    with pytest.raises(UserError, match=message):
        DNNet.from_pretrained(tmp_path / "net")


def test_weights_of_another_architecture_are_refused(tmp_path, model):
    model.save_pretrained(tmp_path / "net")
    record = json.loads((tmp_path / "net" / "config.json").read_text())
    record["net_config"]["groups"] = 2
    (tmp_path / "net" / "config.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="does not fit the network in config.json"):
        DNNet.from_pretrained(tmp_path / "net")


def test_a_trained_run_becomes_a_folder_with_its_preprocessing_and_accuracy(tmp_path, digits, capsys):
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    assert main(["pretrained", str(tmp_path / "run"), "--out", str(tmp_path / "net")]) == 0
    assert "DNNet.from_pretrained" in capsys.readouterr().out
    record = json.loads((tmp_path / "net" / "config.json").read_text())
    run = json.loads((tmp_path / "run" / "config.json").read_text())
    test = json.loads((tmp_path / "run" / "accuracy_test.json").read_text())["accuracy"]
    assert record["preprocessing"]["mean"] == run["data"]["mean"] and record["preprocessing"]["classes"] == [str(d) for d in range(10)]
    assert record["provenance"]["test_accuracy"]["full_network"] == test[-1][-1]
    assert record["provenance"]["train_config"]["epochs"] == 1
    assert main(["pretrained", str(tmp_path / "run"), "--out", str(tmp_path / "cell"), "--cell", "2x3"]) == 0
    cell = SubNet.from_pretrained(tmp_path / "cell")
    assert (cell.depth, cell.width) == (2, 3)
    assert json.loads((tmp_path / "cell" / "config.json").read_text())["provenance"]["test_accuracy"] == test[1][2]
    with pytest.raises(SystemExit):  # a usage error: argparse names the spelling
        main(["pretrained", str(tmp_path / "run"), "--out", str(tmp_path / "x"), "--cell", "2"])


def test_eval_weights_gives_the_runs_grid_without_the_run(tmp_path, digits, capsys):
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    assert main(["pretrained", str(tmp_path / "run"), "--out", str(tmp_path / "net")]) == 0
    capsys.readouterr()
    assert main(["eval", "--weights", str(tmp_path / "net"), "--data", "digits", "--split", "test"]) == 0
    printed = capsys.readouterr().out
    test = json.loads((tmp_path / "run" / "accuracy_test.json").read_text())["accuracy"]
    assert f"test accuracy of the full network (4x4): {100 * test[-1][-1]:.2f}%" in printed
    assert sorted(p.name for p in (tmp_path / "net").iterdir()) == ["README.md", "config.json", "model.safetensors"]  # nothing written
    assert main(["eval", "--weights", str(tmp_path / "net")]) == 2
    assert "--weights needs --data" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "run"), "--weights", str(tmp_path / "net"), "--data", "digits"]) == 2


def test_weights_are_never_written_over_a_run_or_foreign_files(tmp_path, model, digits, capsys):
    run = tmp_path / "run"
    config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False)
    train(config, run, show_progress=False, data=digits)
    config_before = (run / "config.json").read_bytes()
    assert main(["pretrained", str(run), "--out", str(run)]) == 2
    assert "holds a training run" in capsys.readouterr().err
    with pytest.raises(UserError, match="holds a training run"):
        model.save_pretrained(run)
    assert (run / "config.json").read_bytes() == config_before and not (run / "model.safetensors").exists()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.json").write_text('{"mine": true}')
    with pytest.raises(UserError, match="is not a pretrained network's config"):
        model.save_pretrained(tmp_path / "notes")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(UserError, match=r"holds files that are not pretrained weights \(cat.jpg\)"):
        model.save_pretrained(tmp_path / "photos")
    model.save_pretrained(tmp_path / "net")  # a weights folder may be written again
    model.save_pretrained(tmp_path / "net", PREPROCESSING)
    assert json.loads((tmp_path / "net" / "config.json").read_text())["preprocessing"] == PREPROCESSING


@pytest.mark.parametrize("cell", [None, "2x3"])
def test_the_printed_hint_is_a_line_of_python_that_loads_the_folder(tmp_path, digits, capsys, cell):
    import dnnet

    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    capsys.readouterr()
    assert main(["pretrained", str(tmp_path / "run"), "--out", str(tmp_path / "net"), *(["--cell", cell] if cell else [])]) == 0
    code = capsys.readouterr().out.strip().split("load it in Python with: ", 1)[1]
    loaded = eval(code, {"dnnet": dnnet})
    assert isinstance(loaded, DNNet if cell is None else SubNet)
