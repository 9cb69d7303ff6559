"""The default recipe and the paper's, by name; runs saved before a recipe setting existed keep what they were trained with."""

import argparse

import pytest

from dnnet.cli import train_command
from dnnet.errors import UserError
from dnnet.train import TrainConfig
from dnnet.train.setup import setup_model
from dnnet.train.train_config import PAPER_RECIPE


def test_the_paper_recipe_is_eq2_summed_over_exits_with_summed_heads_and_whole_gradients():
    paper = TrainConfig.with_recipe("paper", epochs=3)
    objective = paper.objective
    assert (paper.cell_heads, objective.loss_scale, objective.auxiliary_gradient, paper.optimiser.epochs) == (False, "depths", 1.0, 3)
    assert TrainConfig.with_recipe("default") == TrainConfig.from_flat()
    assert TrainConfig.with_recipe("paper", loss_scale="eq2").objective.loss_scale == "eq2"  # a setting overrides the recipe's
    with pytest.raises(UserError, match="recipe must be one of"):
        TrainConfig.with_recipe("fast")


def test_a_config_saved_before_the_recipe_settings_existed_reads_as_it_was_trained():
    saved = TrainConfig.with_recipe("paper").to_dict()
    del saved["cell_heads"], saved["auxiliary_gradient"]
    assert TrainConfig.from_dict(saved) == TrainConfig.with_recipe("paper")
    assert TrainConfig.from_dict(TrainConfig.from_flat().to_dict()) == TrainConfig.from_flat()


def parsed(*flags):
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    return parser.parse_args(list(flags))


def test_the_command_line_names_a_recipe_and_flags_override_it():
    assert train_command.explicit_settings(parsed("--recipe", "paper")) == PAPER_RECIPE
    assert train_command.explicit_settings(parsed("--recipe", "paper", "--auxiliary-gradient", "0.5"))["auxiliary_gradient"] == 0.5
    assert train_command.explicit_settings(parsed("--epochs", "2")) == {"epochs": 2}


class Digits:
    image_shape, classes = (3, 16, 16), list(range(10))


@pytest.mark.parametrize("preset,cell_heads", [("dnnet_resnet8_g4", True), ("resnet20", False), ("resnet20_anytime", False)])
def test_cell_heads_go_to_networks_trained_at_every_width_only(preset, cell_heads):
    import torch

    config = TrainConfig.from_flat(preset=preset, groups=2 if preset != "dnnet_resnet8_g4" else None)
    model = setup_model(config, Digits(), torch.device("cpu"))
    assert model.config.cell_heads is cell_heads
    assert setup_model(TrainConfig.with_recipe("paper", preset=preset), Digits(), torch.device("cpu")).config.cell_heads is False


@pytest.mark.parametrize("preset,groups", [("resnet20", 2), ("resnet20_anytime", 2), ("dnnet_resnet8_g4", None)])
def test_the_initial_weights_do_not_depend_on_the_recipe(preset, groups):
    import torch

    default = setup_model(TrainConfig.from_flat(preset=preset, groups=groups), Digits(), torch.device("cpu")).state_dict()
    paper = setup_model(TrainConfig.with_recipe("paper", preset=preset, groups=groups), Digits(), torch.device("cpu")).state_dict()
    for key, value in paper.items():  # the classifiers differ in shape where cell heads are added; the trunk is the same
        if not key.startswith("heads."):
            assert torch.equal(default[key], value), key


@pytest.mark.parametrize("weighting", ["final", "depth_only"])
def test_a_causal_network_trained_at_its_full_width_only_keeps_the_summed_heads(weighting):
    import torch

    model = setup_model(TrainConfig.from_flat(weighting=weighting), Digits(), torch.device("cpu"))
    assert model.config.cell_heads is False


def test_resuming_with_another_recipe_is_refused(tmp_path, capsys):
    from dnnet.cli.main import main

    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--epochs", "1", "--recipe", "paper", "--out", str(out), "--quiet"]) == 0
    (out / "finished.json").unlink()
    assert main(["train", "--resume", "--out", str(out), "--recipe", "default", "--quiet"]) == 2
    assert "--resume continues it with its own settings" in capsys.readouterr().err
