"""The training recipe's options: which cells each step trains, with which weights, and a run that uses them."""

import dataclasses

import pytest
import torch

from dnnet import create_model
from dnnet.errors import UserError
from dnnet.loss import JointLoss
from dnnet.loss.joint_loss import loss_coefficients
from dnnet.runs.objective_settings import JointObjective, SandwichObjective
from dnnet.train import TrainConfig, train
from dnnet.train.objective import StepPlanner, build_objective, width_mask

SMALL = "dnnet_resnet8_g4"
CONFIG = create_model(SMALL).config  # 4 exits x 4 widths


def test_loss_coefficients_per_reduction():
    weights = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    assert torch.equal(loss_coefficients(weights, "eq2"), weights / 4)
    assert torch.equal(loss_coefficients(weights, "depths"), weights / 4)  # one exit has weight
    assert torch.equal(loss_coefficients(weights, "cells"), weights)
    assert torch.equal(loss_coefficients(torch.ones(2, 2), "depths"), torch.full((2, 2), 0.5))


def test_a_steps_coefficients_replace_the_constructors():
    logits, target = torch.randn(5, 2, 2, 3), torch.randint(0, 3, (5,))
    loss = JointLoss(torch.ones(2, 2), reduction="depths")
    losses = loss.cell_losses(logits, target)
    torch.testing.assert_close(loss(logits, target), losses.sum() / 2)
    step = torch.tensor([[0.5, 0.0], [1.0, 2.0]])
    torch.testing.assert_close(loss(logits, target, step), (losses * step).sum())


@pytest.mark.parametrize("groups,samples", [(4, 1), (8, 2), (8, 6), (2, 1)])
def test_width_mask_keeps_narrowest_and_full_and_samples_the_rest(groups, samples):
    masks = [width_mask(groups, samples, seed=3, global_step=step) for step in range(20)]
    for mask in masks:
        assert mask[0] == 1 and mask[-1] == 1 and set(mask.tolist()) <= {0.0, 1.0}
        assert mask.sum() == min(2 + samples, groups)
    assert torch.equal(masks[5], width_mask(groups, samples, seed=3, global_step=5))  # a resumed run samples the same
    if groups - 2 > samples:
        assert len({tuple(m.tolist()) for m in masks}) > 1


def plan(config, global_step, progress):
    return StepPlanner.for_run(config, CONFIG).plan(global_step, progress)


def test_plan_samples_widths_at_every_exit_and_ramps_early_exits():
    config = TrainConfig.from_flat(preset=SMALL, width_samples=1, exit_ramp=0.5, drop_stem_exit=True, loss_scale="cells")
    step = plan(config, global_step=11, progress=0.125)  # a quarter of the ramp
    mask = width_mask(4, 1, seed=0, global_step=11)
    early = 0.01 + 0.99 * 0.25
    assert step.widths is None
    torch.testing.assert_close(step.coefficients, torch.stack([0 * mask, early * mask, early * mask, mask]))


@pytest.mark.parametrize("loss_scale", ["eq2", "depths", "cells"])
def test_the_ramp_damps_early_exits_and_leaves_the_last_as_reduced(loss_scale):
    ramped = plan(TrainConfig.from_flat(preset=SMALL, exit_ramp=0.5, loss_scale=loss_scale), global_step=0, progress=0.0).coefficients
    plain = loss_coefficients(torch.ones(4, 4), loss_scale)
    torch.testing.assert_close(ramped[-1], plain[-1])
    torch.testing.assert_close(ramped[:-1], 0.01 * plain[:-1])


def test_plan_of_a_plain_joint_run_keeps_the_losses_weights():
    step = plan(TrainConfig.from_flat(preset=SMALL), global_step=0, progress=0.0)
    assert step.widths is None and step.coefficients is None
    assert plan(TrainConfig.from_flat(preset=SMALL, objective="sandwich"), 4, 0.5).widths[-1] == 4


@pytest.mark.parametrize("settings,message", [
    ({"objective": "sandwich", "exit_ramp": 0.5}, "exit_ramp apply to the joint objective"),
    ({"objective": "sandwich", "auxiliary_gradient": 0.5}, "auxiliary_gradient apply to the joint objective"),
    ({"width_samples": 1, "weighting": "final"}, "width_samples needs a network trained at every width"),
    ({"width_samples": 2}, "width_samples=2 would sample every width of 4 groups; use at most 1"),
])
def test_recipe_options_that_would_do_nothing_are_refused(settings, message):
    with pytest.raises(UserError, match=message):
        StepPlanner.for_run(TrainConfig.from_flat(preset=SMALL, **settings), CONFIG)


# a value other than the default for every knob of the joint objective
NOT_DEFAULT = {"weighting": "macs", "loss_scale": "eq2", "gradient_equilibrium": True, "width_samples": 1,
               "auxiliary_gradient": 0.5, "last_exit_gradient": 0.3, "exit_ramp": 0.5, "drop_stem_exit": True,
               "distill_weight": 0.5, "distill_temperature": 2.0}


def test_every_joint_knob_has_a_value_other_than_its_default_here():
    assert set(NOT_DEFAULT) == {f.name for f in dataclasses.fields(JointObjective)}
    assert all(value != getattr(JointObjective(), name) for name, value in NOT_DEFAULT.items())


@pytest.mark.parametrize("knob", sorted(NOT_DEFAULT))
def test_no_joint_knob_can_be_written_under_the_sandwich_rule(knob):
    assert not hasattr(SandwichObjective(), knob)  # the type has no such field
    with pytest.raises(UserError, match=f"{knob} apply to the joint objective; the sandwich rule trains the last exit only"):
        TrainConfig.from_flat(objective="sandwich", **{knob: NOT_DEFAULT[knob]})
    # at its default (a recipe's, a joint run's config.json, `replaced`) it is no setting: dropped, not refused
    at_default = TrainConfig.from_flat(objective="sandwich", **{knob: getattr(JointObjective(), knob)})
    assert at_default == TrainConfig.from_flat(objective="sandwich") and knob not in at_default.to_dict()


def test_a_recipe_under_the_sandwich_rule_gives_its_classifiers_only():
    assert TrainConfig.with_recipe("paper", objective="sandwich") == TrainConfig.from_flat(objective="sandwich", cell_heads=False)
    assert TrainConfig.from_flat().replaced(objective="sandwich").objective == SandwichObjective()


def test_a_sandwich_run_saved_with_the_joint_knobs_at_their_defaults_still_reads():
    saved = {**TrainConfig.from_flat().to_dict(), "objective": "sandwich"}  # as runs saved them before the split
    config = TrainConfig.from_dict(saved)
    assert config.objective == SandwichObjective() and "weighting" not in config.to_dict()


def test_gradient_equilibrium_shares_follow_the_trained_exits():
    model = create_model("dnnet_resnet8_g4")
    forward, _ = build_objective(model, TrainConfig.from_flat(preset=SMALL, gradient_equilibrium=True, drop_stem_exit=True))
    assert forward.head_gradient_shares == [0.0, 1 / 3, 1 / 2, 1.0]
    forward, _ = build_objective(model, TrainConfig.from_flat(preset=SMALL))
    assert forward.head_gradient_shares is None


@pytest.mark.parametrize("field,value,message", [("width_samples", -1, "width_samples must be at least 0"),
                                                 ("exit_ramp", 1.5, r"exit_ramp must be in \[0, 1\]"),
                                                 ("auxiliary_gradient", -0.1, r"auxiliary_gradient must be in \[0, 1\]")])
def test_recipe_settings_are_checked(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_flat(**{field: value})


def test_a_run_with_every_recipe_option_learns(tmp_path, digits):
    config = TrainConfig.from_flat(preset=SMALL, epochs=10, batch_size=64, gradient_equilibrium=True, width_samples=1, exit_ramp=0.5,
                         drop_stem_exit=True, loss_scale="cells", warmup_epochs=1, distill_weight=0.5)
    summary = train(config, tmp_path / "run", show_progress=False, data=digits)
    assert summary["test"].shape == (4, 4)
    assert summary["test"][-1, -1] > 0.5  # digits: chance is 0.1; the paper's joint loss reaches 0.30 in these 10 epochs


@pytest.mark.parametrize("field,value,message", [
    ("lr", float("nan"), "lr must be a positive number"), ("lr", float("inf"), "lr must be a positive number"),
    ("lr", -0.1, "lr must be a positive number"), ("momentum", float("nan"), "momentum must be a finite number"),
    ("weight_decay", -1e-4, "weight_decay must be a finite number at least 0"),
    ("distill_temperature", 0.0, "distill_temperature must be a positive number"),
    ("eval_batch_size", 0, "eval_batch_size must be at least 1"),
    ("auxiliary_gradient", float("nan"), r"auxiliary_gradient must be in \[0, 1\]"),
])
def test_numbers_are_checked_when_the_config_is_made_not_after_an_epoch(field, value, message):
    with pytest.raises(UserError, match=message):
        TrainConfig.from_flat(**{field: value})
