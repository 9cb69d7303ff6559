"""Width conditioning: a batch norm per width, so that each width is normalised with its own statistics."""

import json

import pytest
import torch
import torch.nn.functional as F
from conftest import randomize_batchnorm

from dnnet import create_model
from dnnet.anytime.path import check_path
from dnnet.anytime.path_search import default_path
from dnnet.anytime.runner import AnytimeRunner
from dnnet.cli.main import main
from dnnet.errors import UserError
from dnnet.evaluation.recalibration import recalibrated
from dnnet.layers.prefix_batchnorm import to_local_batchnorm, to_synced_batchnorm
from dnnet.layers.width_conditioned_batchnorm import WidthConditionedBatchNorm2d
from dnnet.models.dnnet import DNNet
from dnnet.slicing import fold_batchnorm, slice_subnet
from dnnet.train import TrainConfig, train
from dnnet.train.objective import build_objective

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


@pytest.mark.parametrize("width", [1, 3, WIDTHS])
def test_a_width_is_normalised_with_its_own_statistics_scale_and_shift(width):
    norm = conditioned_model().blocks[0].bn1  # 4 groups of 1 channel
    x = torch.randn(5, width, 3, 3)
    mean, var = norm.width_running_mean[width - 1, :width], norm.width_running_var[width - 1, :width]
    scale = norm.weight[:width] * (1 + norm.width_scale[width - 1, :width])
    shift = norm.bias[:width] + norm.width_shift[width - 1, :width]
    by_hand = (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + norm.eps) * scale[:, None, None] + shift[:, None, None]
    torch.testing.assert_close(norm(x), by_hand, rtol=0, atol=1e-6)


def test_a_width_no_longer_shares_the_full_passes_features():
    model = conditioned_model()
    x = torch.randn(3, 3, 8, 8)
    narrow = model.forward_features(x, DEPTHS, 1)
    full = model.forward_features(x, DEPTHS, WIDTHS)
    assert not torch.allclose(narrow, full[:, : narrow.shape[1]], atol=1e-3)


@pytest.mark.parametrize("width", [2, WIDTHS])
def test_each_width_updates_its_own_running_statistics_and_nothing_else(width):
    model = create_model("dnnet_resnet8_g4", image_size=8, width_conditioning=True).train()
    norm = model.stem_bn
    shared_mean = norm.running_mean.clone()
    images = torch.randn(8, 3, 8, 8) + 1.0
    model(images, DEPTHS, width)
    moved = (norm.width_running_mean != 0).any(dim=1).tolist()
    assert moved == [w == width for w in range(1, WIDTHS + 1)]
    assert torch.equal(norm.running_mean, shared_mean)
    assert (norm.width_running_mean[width - 1, width:] == 0).all()  # the stem's groups have 1 channel
    stem = model.stem(images, width)  # the momentum's share of the batch mean, per channel
    torch.testing.assert_close(norm.width_running_mean[width - 1, :width], 0.1 * stem.mean(dim=(0, 2, 3)))


def test_a_widths_loss_trains_that_widths_conditioning_only():
    model = create_model("dnnet_resnet8_g4", image_size=8, width_conditioning=True).train()
    model(torch.randn(4, 3, 8, 8), DEPTHS, 3).square().sum().backward()
    for norm in conditioned_norms(model):
        used = (norm.width_scale.grad != 0).any(dim=1).tolist()
        assert used == [False, False, True, False]
        assert (norm.width_shift.grad[[0, 1, 3]] == 0).all()


def test_the_recipes_damping_is_undone_for_the_conditioning_of_a_width_at_the_last_exit():
    """The default recipe passes a narrower width's gradient into the shared layers damped; that width's own scales
    and shifts get its cell at the last exit whole, as its classifier does."""
    model = create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True, width_conditioning=True).double().train()
    x, y = torch.randn(6, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (6,))
    width = 2

    def gradient_of_width(forward):
        model.zero_grad()
        F.cross_entropy(forward(x)[:, -1, width - 1], y).backward()
        return model.blocks[0].bn1.width_shift.grad[width - 1].clone(), model.blocks[0].conv1.weight.grad.clone()

    damped_forward, _ = build_objective(model, TrainConfig.from_flat(preset="dnnet_resnet8_g4", width_conditioning=True))
    conditioning, trunk = gradient_of_width(damped_forward)
    plain_forward, _ = build_objective(model, TrainConfig.from_flat(preset="dnnet_resnet8_g4", width_conditioning=True,
                                                          auxiliary_gradient=1.0, last_exit_gradient=1.0))
    whole_conditioning, whole_trunk = gradient_of_width(plain_forward)
    assert conditioning.abs().max() > 0
    torch.testing.assert_close(conditioning, whole_conditioning, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(trunk, whole_trunk * (2 / 3), rtol=1e-9, atol=1e-12)  # 2 / (widths - 1), as before


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


def test_a_conditioned_run_trains_every_widths_conditioning_and_is_evaluated_again(tmp_path, digits, capsys):
    config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, width_conditioning=True, channels_last=False)
    summary = train(config, tmp_path / "run", show_progress=False, data=digits)
    assert summary["test"].shape == (DEPTHS, WIDTHS)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["net_config"]["width_conditioning"] is True
    assert record["train_config"]["width_conditioning"] is True
    weights = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["model"]
    shift = weights["blocks.0.bn1.width_shift"]  # 1 channel per group: width w reads the first w
    assert [bool((shift[w - 1, :w] != 0).all()) for w in range(1, WIDTHS + 1)] == [True] * WIDTHS  # every width learned
    assert (shift.tril() == shift).all()  # and nothing beyond its groups
    assert main(["eval", str(tmp_path / "run"), "--split", "test", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    printed = torch.tensor(evaluated["accuracy"], dtype=torch.float64)  # rounded; one image is 1/360
    torch.testing.assert_close(printed, summary["test"].double(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("config,message", [
    (TrainConfig.from_flat(preset="resnet20", width_conditioning=True), "needs the joint objective"),
    (TrainConfig.from_flat(preset="dnnet_resnet8_g4", objective="sandwich", width_conditioning=True), "needs the joint objective"),
    (TrainConfig.from_flat(preset="dnnet_resnet8_g4", width_samples=1, width_conditioning=True), "every width would still be computed"),
])
def test_conditioning_a_network_trained_at_its_full_width_only_is_refused(tmp_path, digits, config, message):
    with pytest.raises(UserError, match=message):
        train(config, tmp_path / "run", show_progress=False, data=digits)


def test_a_dense_network_cannot_be_conditioned():
    with pytest.raises(UserError, match="width_conditioning needs a channel-causal network"):
        create_model("resnet20", width_conditioning=True)
