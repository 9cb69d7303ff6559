"""The auxiliary and last-exit gradient factors: what every cell passes into the shared layers, and what a run records."""

import json

import pytest
import torch
import torch.nn.functional as F

from dnnet import create_model
from dnnet.errors import UserError
from dnnet.train import TrainConfig, train
from dnnet.train.objective import auxiliary_gradient_factor, auxiliary_gradient_table, build_objective, trained_weights


def cell_gradients(model, x, y, feature_gradient=None):
    """Per cell: the gradient of every parameter from that cell's loss alone, {(d, c): {name: grad}}."""
    logits = model.forward_all(x, feature_gradient=feature_gradient)
    grads = {}
    for d in range(logits.shape[1]):
        for c in range(logits.shape[2]):
            model.zero_grad()
            F.cross_entropy(logits[:, d, c], y, reduction="sum").backward(retain_graph=True)
            grads[d, c] = {name: p.grad.clone() if p.grad is not None else torch.zeros_like(p) for name, p in model.named_parameters()}
    return grads


@pytest.mark.parametrize("factor", [0.0, 0.25])
@pytest.mark.parametrize("name,kwargs", [("dnnet_resnet8_g4", {}), ("dnnet_resnet8_g4", {"cell_heads": True}),
                                         ("resnet20", {"groups": 4})])  # dense: one pass per width
def test_every_cell_but_the_full_network_reaches_the_shared_layers_scaled_and_its_head_whole(factor, name, kwargs):
    torch.manual_seed(0)
    model = create_model(name, image_size=8, **kwargs).double()
    x, y = torch.randn(5, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (5,))
    plain = cell_gradients(model, x, y)
    table = auxiliary_gradient_table((model.config.num_exits, model.config.groups), factor)
    damped = cell_gradients(model, x, y, table)
    for (d, c), grads in damped.items():
        expected_factor = 1.0 if (d, c) == (model.config.num_exits - 1, model.config.groups - 1) else factor
        for name, grad in grads.items():
            expected = plain[d, c][name] * (1.0 if name.startswith("heads.") else expected_factor)
            torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-12, msg=f"cell {(d, c)} {name}")


def test_the_forward_pass_is_unchanged():
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8)
    x = torch.randn(3, 3, 8, 8)
    assert torch.equal(model.forward_all(x, feature_gradient=auxiliary_gradient_table((4, 4), 0.1)), model.forward_all(x))


def test_the_full_network_is_the_one_cell_at_full_rate():
    assert auxiliary_gradient_table((2, 3), 0.5) == [[0.5, 0.5, 0.5], [0.5, 0.5, 1.0]]
    assert auxiliary_gradient_table((2, 3), 1.0) is None


def test_depth_only_training_damps_the_early_exits():
    torch.manual_seed(0)
    model = create_model("resnet20_anytime", groups=2, image_size=8).double()
    forward, _ = build_objective(model, TrainConfig.from_flat(preset="resnet20_anytime", auxiliary_gradient=0.0))
    x, y = torch.randn(4, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (4,))
    logits = forward(x)  # (N, depths, 1, classes)
    F.cross_entropy(logits[:, 0, 0], y).backward()  # the first exit alone: its head learns, nothing else does
    assert all(p.grad is None or not p.grad.any() for name, p in model.named_parameters() if not name.startswith("heads.0."))
    assert model.heads[0].weight.grad.any()


@pytest.mark.parametrize("preset,settings,factor", [
    ("dnnet_resnet8_g4", {}, 1 / 15),  # 4 exits x 4 widths
    ("dnnet_resnet20_g8", {}, 1 / 79),  # 10 x 8: the cpu protocol's network
    ("dnnet_resnet32_g22", {}, 1 / 351),  # 16 x 22: the paper's
    ("dnnet_resnet8_g4", {"drop_stem_exit": True}, 1 / 11),  # the stem's 4 cells train nothing
    ("resnet20_anytime", {}, 1 / 9),  # 10 exits at the full width
    ("resnet32", {}, 1.0),  # one trained cell: nothing to damp
    ("dnnet_resnet8_g4", {"auxiliary_gradient": 0.5}, 0.5),  # a given factor is kept
])
def test_the_default_factor_is_one_over_the_other_trained_cells(preset, settings, factor):
    model_config = create_model(preset).config
    config = TrainConfig.from_flat(preset=preset, **settings)
    assert auxiliary_gradient_factor(trained_weights(model_config, config), config.objective.auxiliary_gradient) == factor


def test_the_run_records_the_factor_it_trained_with(tmp_path, digits):
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["train_config"]["auxiliary_gradient"] is None and record["auxiliary_gradient_resolved"] == 1 / 15


def test_the_last_exit_widths_can_pass_their_own_factor():
    assert auxiliary_gradient_table((2, 3), 0.5, 0.25) == [[0.5, 0.5, 0.5], [0.25, 0.25, 1.0]]
    assert auxiliary_gradient_table((2, 3), 0.5, 1.0) == [[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]
    assert auxiliary_gradient_table((2, 3), 1.0, 1.0) is None


def test_the_last_exit_factor_reaches_the_shared_layers_of_those_cells_only():
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8).double()
    x, y = torch.randn(5, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (5,))
    forward, _ = build_objective(model, TrainConfig.from_flat(auxiliary_gradient=0.125, last_exit_gradient=0.5))
    plain = cell_gradients(model, x, y)
    damped = cell_gradients(model, x, y, forward.feature_gradient)
    last = model.config.num_exits - 1
    for (d, c), grads in damped.items():
        expected_factor = 1.0 if (d, c) == (last, 3) else 0.5 if d == last else 0.125
        for name, grad in grads.items():
            expected = plain[d, c][name] * (1.0 if name.startswith("heads.") else expected_factor)
            torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-12, msg=f"cell {(d, c)} {name}")


@pytest.mark.parametrize("preset,settings,message", [
    ("resnet20_anytime", {}, "trains the full width only"),
    ("dnnet_resnet8_g4", {"weighting": "final"}, "trains the full width only"),
    ("dnnet_resnet8_g4", {"objective": "sandwich"}, "apply to the joint objective"),
])
def test_a_last_exit_factor_that_would_do_nothing_is_refused(preset, settings, message):
    model = create_model(preset)
    with pytest.raises(UserError, match=message):
        build_objective(model, TrainConfig.from_flat(preset=preset, last_exit_gradient=0.5, **settings))


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_a_last_exit_factor_outside_zero_to_one_is_refused(value):
    with pytest.raises(UserError, match="last_exit_gradient must be in"):
        TrainConfig.from_flat(last_exit_gradient=value)


@pytest.mark.parametrize("preset,settings,factor", [
    ("dnnet_resnet20_g8", {}, 2 / 7),  # 8 widths: the measured 0.3, as a rule
    ("dnnet_resnet32_g22", {}, 2 / 21),
    ("dnnet_resnet8_g4", {}, 2 / 3),
    ("dnnet_resnet8_g4", {"last_exit_gradient": "auxiliary"}, None),  # the default before the setting: the auxiliary factor
    ("dnnet_resnet8_g4", {"last_exit_gradient": 0.25}, 0.25),
    ("resnet20_anytime", {}, None),  # the full width only: nothing narrower at the last exit
])
def test_the_last_exit_factor_by_default_lets_the_narrower_widths_pass_twice_the_full_networks_gradient(preset, settings, factor):
    from dnnet.train.objective import last_exit_gradient_factor

    model_config = create_model(preset).config
    config = TrainConfig.from_flat(preset=preset, **settings)
    assert last_exit_gradient_factor(trained_weights(model_config, config), config.objective.last_exit_gradient) == factor
    build_objective(create_model(preset), config)  # the default is part of the recipe: never refused as a request


def test_a_run_saved_before_the_setting_keeps_its_training():
    old = TrainConfig.from_dict({"preset": "dnnet_resnet8_g4", "auxiliary_gradient": None})
    assert old.objective.last_exit_gradient == "auxiliary"
    assert TrainConfig.with_recipe("paper").objective.last_exit_gradient == "auxiliary"


def test_the_run_records_the_last_exit_factor(tmp_path, digits):
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["train_config"]["last_exit_gradient"] is None and record["last_exit_gradient_resolved"] == 2 / 3


@pytest.mark.parametrize("value", ["auxilary", "rule"])
def test_a_misspelt_word_is_refused(value):
    with pytest.raises(UserError, match="a number in \\[0, 1\\] or 'auxiliary'"):
        TrainConfig.from_flat(last_exit_gradient=value)
