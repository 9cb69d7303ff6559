"""Exact slicing: every SubNet equals its cell of the network, trains on its own, folds batch norm, saves and loads."""

import json

import pytest
import torch
from conftest import randomize_batchnorm

from dnnet import create_model, load_subnet, save_subnet, slice_subnet
from dnnet.slicing import SubNet, fold_batchnorm

SMALL_VARIANTS = [
    ("dnnet_resnet8_g4", {}),
    ("dnnet_resnet8_g4", {"shortcut": "project", "head_reduction": "mean"}),
    ("dnnet_resnet20_g8", {}),
    ("dnnet_resnet8_g4", {"cell_heads": True}),
    ("dnnet_resnet8_g4", {"cell_heads": True, "head_reduction": "mean", "shortcut": "project"}),
    ("resnet32_anytime", {"width_multiplier": 0.25}),  # dense: its slices are brute-force slicing
    # the ImageNet family: the 7x7 stride-2 stem with its max pool, bottleneck blocks, both
    ("dnnet_resnet8_g4", {"stem": "imagenet"}),
    ("dnnet_resnet8_g4", {"block": "bottleneck", "shortcut": "project"}),
    ("dnnet_resnet8_g4", {"stem": "imagenet", "block": "bottleneck"}),
]
PAPER_SAMPLE = [(1, 1), (1, 22), (5, 7), (6, 22), (11, 3), (14, 12), (16, 1), (16, 22)]


def trained_looking(name, **kwargs):
    return randomize_batchnorm(create_model(name, **kwargs)).eval()


def all_cells(config):
    return [(d, w) for d in range(1, config.num_exits + 1) for w in range(1, config.groups + 1)]


@pytest.mark.parametrize("name,kwargs", SMALL_VARIANTS)
def test_every_slice_equals_its_cell(name, kwargs):
    model = trained_looking(name, **kwargs)
    x = torch.randn(4, 3, 32, 32)
    everything = model.forward_all(x)
    for depth, width in all_cells(model.config):
        subnet = slice_subnet(model, depth, width)
        torch.testing.assert_close(subnet(x), everything[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_paper_preset_slices_equal_their_cells():
    model = trained_looking("dnnet_resnet32_g22")
    x = torch.randn(2, 3, 32, 32)
    everything = model.forward_all(x)
    for depth, width in PAPER_SAMPLE:
        torch.testing.assert_close(slice_subnet(model, depth, width)(x), everything[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)


def test_slice_holds_only_its_own_weights():
    model = trained_looking("dnnet_resnet20_g8")
    subnet = slice_subnet(model, depth=6, width=3)
    model_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    model_storages |= {b.untyped_storage().data_ptr() for b in model.buffers()}
    assert all(t.untyped_storage().data_ptr() not in model_storages for t in subnet.state_dict().values())
    assert not any(isinstance(m, type(model)) for m in subnet.modules())
    # stem + 5 blocks (3 in stage 1, first 2 of stage 2) at 3 groups, and the exit after block 5
    assert subnet.stem.weight.shape == (3, 3, 3, 3)
    assert len(subnet.blocks) == 5
    assert subnet.blocks[3].conv1.weight.shape == (6, 3, 3, 3)
    assert subnet.fc.weight.shape == (10, 6)


def test_slice_keeps_training_mode_and_trains_on_its_own():
    model = trained_looking("dnnet_resnet8_g4").train()
    subnet = slice_subnet(model, 3, 2)
    assert subnet.training
    subnet(torch.randn(4, 3, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in subnet.parameters())
    assert all(p.grad is None for p in model.parameters())


def test_fold_batchnorm_equals_eval_slice():
    subnet = slice_subnet(trained_looking("dnnet_resnet20_g8", shortcut="project"), 10, 5)
    x = torch.randn(3, 3, 32, 32)
    folded = fold_batchnorm(subnet)
    torch.testing.assert_close(folded(x), subnet(x), rtol=1e-5, atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())


def test_save_and_load_round_trip(tmp_path):
    model = trained_looking("dnnet_resnet8_g4", shortcut="project")
    subnet = slice_subnet(model, 3, 2)
    save_subnet(subnet, tmp_path / "cell")
    arch = json.loads((tmp_path / "cell" / "arch.json").read_text())
    assert (arch["depth"], arch["width"], arch["config"]["shortcut"]) == (3, 2, "project")
    loaded = load_subnet(tmp_path / "cell")
    assert isinstance(loaded, SubNet) and not loaded.training
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), subnet(x), rtol=0, atol=0)


def test_load_refuses_a_directory_without_arch(tmp_path):
    with pytest.raises(FileNotFoundError, match="arch.json not found"):
        load_subnet(tmp_path)


def test_load_refuses_pickled_code(tmp_path):
    subnet = slice_subnet(trained_looking("dnnet_resnet8_g4"), 1, 1)
    save_subnet(subnet, tmp_path)
    torch.save({"evil": print}, tmp_path / "weights.pt")  # a global that weights_only refuses to load
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        load_subnet(tmp_path)


@pytest.mark.parametrize("name,kwargs", SMALL_VARIANTS[:2] + SMALL_VARIANTS[-1:])
def test_slice_exports_with_torch_export(name, kwargs):
    model = trained_looking(name, **kwargs)
    subnet = slice_subnet(model, 3, 3)
    x = torch.randn(2, 3, 32, 32)
    exported = torch.export.export(subnet, (x,))
    torch.testing.assert_close(exported.module()(x), subnet(x), rtol=1e-5, atol=1e-5)
