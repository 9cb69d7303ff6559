"""`dnnet train --config FILE`: the settings of a TOML file or of a run's config.json; flags on the command line win."""

import json

import pytest

from dnnet.cli.main import main
from dnnet.errors import UserError
from dnnet.train.config_file import read_config_file


@pytest.mark.parametrize("text", ['preset = "dnnet_resnet8_g4"\nepochs = 3\nlr = 0.05\ncell_heads = false\n',
                                  '[train_config]\npreset = "dnnet_resnet8_g4"\nepochs = 3\nlr = 0.05\ncell_heads = false\n'])
def test_a_toml_file_sets_fields_at_the_top_or_under_train_config(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text)
    assert read_config_file(path) == {"preset": "dnnet_resnet8_g4", "epochs": 3, "lr": 0.05, "cell_heads": False}


@pytest.mark.parametrize("text,message", [
    ("epochz = 3\n", "unknown TrainConfig keys \\['epochz'\\]"),
    ("epochs = 0\n", "epochs must be at least 1"),
    ("epochs = \"many\"\n", "epochs must be an int, got 'many'"),
    ("epochs = 2.5\n", "epochs must be an int, got 2.5"),
    ("amp = \"no\"\n", "amp must be a bool, got 'no'"),
    ("seed = true\n", "seed must be an int, got True"),
    ("preset = 3\n", "preset must be a str, got 3"),
    ("epochs = \n", "not valid TOML"),
    ("momentum = 5\n", "momentum must be below 1, got 5"),
    ("distill_weight = 2.0\n", "distill_weight must be in \\[0, 1\\]"),
    ("ema = 1.0\n", "ema must be 0 \\(off\\) or a decay in \\(0, 1\\)"),
    ("label_smoothing = 1\n", "label_smoothing must be in \\[0, 1\\), got 1"),
    ("teacher = 3\n", "teacher must be a str, got 3"),
    ("teacher_weight = 0.3\n", "teacher_weight apply to distillation from a teacher: add teacher"),
    ("teacher = \"t\"\nteacher_temperature = 0\n", "teacher_temperature must be a positive number"),
])
def test_what_the_file_gets_wrong_is_named_before_training(tmp_path, text, message):
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_config_file(path)


def test_a_run_is_trained_again_from_its_config_json_with_a_flag_changed(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--lr", "0.05", "--out", str(first), "--quiet"]) == 0
    assert main(["train", "--config", str(first / "config.json"), "--seed", "1", "--out", str(second), "--quiet"]) == 0
    before, after = (json.loads((run / "config.json").read_text())["train_config"] for run in (first, second))
    assert after == {**before, "seed": 1}


def test_resume_refuses_a_config_file(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text("epochs = 1\n")
    assert main(["train", "--resume", "--out", str(tmp_path / "run"), "--config", str(path)]) == 2
    assert "drop --config" in capsys.readouterr().err


def test_a_missing_config_file_is_one_line(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "none.toml"), "--out", str(tmp_path / "run")]) == 2
    assert "none.toml: no such file" in capsys.readouterr().err


def test_a_toml_integer_is_a_float_where_a_float_goes(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("lr = 1\nauxiliary_gradient = 0\n")
    assert read_config_file(path) == {"lr": 1, "auxiliary_gradient": 0}


def test_a_config_json_of_an_older_run_keeps_the_settings_it_was_trained_with(tmp_path):
    path = tmp_path / "config.json"  # written before cell_heads and auxiliary_gradient existed
    path.write_text(json.dumps({"train_config": {"preset": "dnnet_resnet8_g4", "epochs": 3}}))
    settings = read_config_file(path)
    assert settings["cell_heads"] is False and settings["auxiliary_gradient"] == 1.0 and settings["epochs"] == 3


@pytest.mark.parametrize("source", ["flags", "toml"])
def test_the_new_settings_come_from_flags_or_toml_keys_and_are_recorded(tmp_path, source):
    """--ema, --label-smoothing (a teacher's settings: tests/test_teacher.py), given either way, reach config.json."""
    toml = tmp_path / "run.toml"
    toml.write_text("ema = 0.5\nlabel_smoothing = 0.1\n")
    given = ["--ema", "0.5", "--label-smoothing", "0.1"] if source == "flags" else ["--config", str(toml)]
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--batch-size", "256", *given,
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train_config"]
    assert (saved["ema"], saved["label_smoothing"]) == (0.5, 0.1)


def test_a_folder_as_config_file_is_named_as_a_folder(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert f"--config {tmp_path} is a folder; give its config file" in capsys.readouterr().err


def test_a_config_file_names_a_recipe_as_the_flag_does(tmp_path):
    path = tmp_path / "paper.toml"
    path.write_text('recipe = "paper"\nepochs = 2\nloss_scale = "cells"\n')
    from dnnet.train.train_config import RECIPES

    settings = read_config_file(path)
    assert settings == {**RECIPES["paper"], "epochs": 2, "loss_scale": "cells"}  # the file's own keys over the recipe's
    path.write_text('recipe = "fast"\n')
    with pytest.raises(UserError, match="recipe must be one of \\['default', 'paper'\\], got 'fast'"):
        read_config_file(path)


def test_a_misspelt_key_gets_the_nearest_known_one(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text("epoch = 2\nlearning_rate = 0.1\n")
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "unknown TrainConfig keys ['epoch', 'learning_rate'] (did you mean: 'epoch' -> 'epochs'?)" in capsys.readouterr().err
