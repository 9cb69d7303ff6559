import json

import pytest
import torch
from conftest import randomize_batchnorm

from dnnet import create_model
from dnnet.anytime.path import check_path, default_path
from dnnet.anytime.runner import AnytimeRunner
from dnnet.errors import UserError
from dnnet.evaluation.recalibration import recalibrated
from dnnet.layers.prefix_batchnorm import to_local_batchnorm, to_synced_batchnorm
from dnnet.layers.width_conditioned_batchnorm import WidthConditionedBatchNorm2d
from dnnet.models.dnnet import DNNet
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.train import TrainConfig, train

DEPTHS, WIDTHS = 4, 4  # dnnet_resnet8_g4


def conditioned_model(shortcut: str = "pad") -> DNNet:
    """A width-conditioned dnnet_resnet8_g4 whose widths' affines and statistics all differ, in eval mode."""
    model = randomize_batchnorm(create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True, width_conditioning=True,
                                             shortcut=shortcut))
    with torch.no_grad():
        for norm in conditioned_norms(model):
            norm.width_scale.uniform_(-0.3, 0.3)
            norm.width_shift.uniform_(-0.2, 0.2)
            norm.width_running_mean.uniform_(-0.2, 0.2)
            norm.width_running_var.uniform_(0.5, 2.0)
    return model.eval()


def conditioned_norms(model: DNNet) -> list[WidthConditionedBatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, WidthConditionedBatchNorm2d)]


@pytest.mark.parametrize("shortcut", ["pad", "project"])
@pytest.mark.parametrize("depth", range(1, DEPTHS + 1))
@pytest.mark.parametrize("width", range(1, WIDTHS + 1))
def test_every_sliced_cell_equals_its_cell_of_the_network(shortcut, depth, width):
    model = conditioned_model(shortcut)
    x = torch.randn(3, 3, 8, 8)
    every_cell = model.forward_all(x)[:, depth - 1, width - 1]
    subnet = slice_subnet(model, depth, width).eval()
    torch.testing.assert_close(subnet(x), every_cell, rtol=0, atol=1e-5)
    torch.testing.assert_close(fold_batchnorm(subnet)(x), every_cell, rtol=0, atol=1e-5)
    torch.testing.assert_close(model(x, depth, width), every_cell, rtol=0, atol=1e-5)


def test_every_batch_norm_is_conditioned_and_a_slice_is_a_plain_network():
    model = conditioned_model("project")
    # stem, 2 per block (3 blocks), and the two projection shortcuts
    assert len(conditioned_norms(model)) == 1 + 2 * 3 + 2
    assert not any(isinstance(m, WidthConditionedBatchNorm2d) for m in slice_subnet(model, DEPTHS, 2).modules())


def test_at_initialisation_it_computes_what_the_unconditioned_network_does():
    torch.manual_seed(0)
    plain = create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True)
    torch.manual_seed(0)
    conditioned = create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True, width_conditioning=True)
    x = torch.randn(5, 3, 8, 8)
    # to rounding: each width is its own (smaller) convolution there
    torch.testing.assert_close(conditioned.forward_all(x), plain.forward_all(x), rtol=0, atol=1e-5)  # batch statistics
    torch.testing.assert_close(conditioned.eval().forward_all(x), plain.eval().forward_all(x), rtol=0, atol=1e-5)


def test_a_width_no_longer_shares_the_full_passes_features():
    model = conditioned_model()
    x = torch.randn(3, 3, 8, 8)
    narrow = model.forward_features(x, DEPTHS, 1)
    full = model.forward_features(x, DEPTHS, WIDTHS)
    assert not torch.allclose(narrow, full[:, : narrow.shape[1]], atol=1e-3)


def test_each_width_updates_its_own_running_statistics_and_nothing_else():
    model = create_model("dnnet_resnet8_g4", image_size=8, width_conditioning=True).train()
    norm = model.stem_bn
    shared_mean = norm.running_mean.clone()
    model(torch.randn(8, 3, 8, 8) + 1.0, DEPTHS, 2)
    moved = (norm.width_running_mean != 0).any(dim=1).tolist()
    assert moved == [False, True, False, False]
    assert torch.equal(norm.running_mean, shared_mean)
    assert (norm.width_running_mean[1, 2 * 1 :] == 0).all()  # width 2 of the stem: its 2 groups of 1 channel only


def test_a_widths_loss_trains_that_widths_conditioning_only():
    model = create_model("dnnet_resnet8_g4", image_size=8, width_conditioning=True).train()
    model(torch.randn(4, 3, 8, 8), DEPTHS, 3).square().sum().backward()
    for norm in conditioned_norms(model):
        used = (norm.width_scale.grad != 0).any(dim=1).tolist()
        assert used == [False, False, True, False]
        assert (norm.width_shift.grad[[0, 1, 3]] == 0).all()


@pytest.mark.parametrize("width", [2, WIDTHS])
def test_the_runner_deepens_at_one_width_with_that_widths_batch_norm(width):
    model = conditioned_model()
    x = torch.randn(2, 3, 8, 8)
    path = [(depth, width) for depth in range(1, DEPTHS + 1)]
    every_cell = model.forward_all(x)
    for (depth, step_width), logits in AnytimeRunner(model, path).steps(x):
        torch.testing.assert_close(logits, every_cell[:, depth - 1, step_width - 1], rtol=0, atol=1e-4)


def test_the_runner_refuses_to_widen_and_its_default_path_deepens_at_full_width():
    model = conditioned_model()
    with pytest.raises(UserError, match="width-conditioned network changes every layer when it widens"):
        check_path(model.config, [(1, 1), (1, 2)])
    assert default_path(model.config, torch.rand(DEPTHS, WIDTHS)) == [(d, WIDTHS) for d in range(1, DEPTHS + 1)]


def test_several_processes_are_refused_and_local_batch_norm_keeps_it():
    model = conditioned_model()
    with pytest.raises(UserError, match="width-conditioned network trains in one process"):
        to_synced_batchnorm(model)
    assert to_local_batchnorm(model).stem_bn is model.stem_bn


def test_recalibration_keeps_the_conditioning(digits):
    model = create_model("dnnet_resnet8_g4", width_conditioning=True).eval()
    twin = recalibrated(model, 2, digits.train, [0.5], [0.25])
    assert isinstance(twin.stem_bn, WidthConditionedBatchNorm2d)
    assert (twin.stem_bn.width_running_mean[1, :2] != 0).all()


def test_a_conditioned_run_trains_saves_and_reloads(tmp_path, digits):
    config = TrainConfig(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, width_conditioning=True)
    summary = train(config, tmp_path / "run", show_progress=False, data=digits)
    assert summary["test"].shape == (DEPTHS, WIDTHS)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["net_config"]["width_conditioning"] is True
    assert record["train_config"]["width_conditioning"] is True


@pytest.mark.parametrize("config,message", [
    (TrainConfig(preset="resnet20", width_conditioning=True), "trains its full width only"),
    (TrainConfig(preset="dnnet_resnet8_g4", objective="sandwich", width_conditioning=True), "trains its full width only"),
])
def test_conditioning_a_network_trained_at_its_full_width_only_is_refused(tmp_path, digits, config, message):
    with pytest.raises(UserError, match=message):
        train(config, tmp_path / "run", show_progress=False, data=digits)


def test_a_dense_network_cannot_be_conditioned():
    with pytest.raises(UserError, match="width_conditioning needs a channel-causal network"):
        create_model("resnet20", width_conditioning=True)
