"""Synchronised batch norm for distributed runs: conversion, one-process equivalence, recalibration."""

import torch
import torch.distributed as dist

from dnnet import create_model
from dnnet.data import ImageDataset
from dnnet.evaluation import recalibrated
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d, SyncedPrefixBatchNorm2d, to_local_batchnorm, to_synced_batchnorm

MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def norm_types(model: torch.nn.Module) -> set[type]:
    return {type(m) for m in model.modules() if isinstance(m, PrefixBatchNorm2d)}


def test_conversion_swaps_every_norm_and_shares_its_state():
    model = create_model("dnnet_resnet8_g4", image_size=16)
    parameters, buffers = dict(model.named_parameters()), dict(model.named_buffers())
    assert norm_types(to_synced_batchnorm(model)) == {SyncedPrefixBatchNorm2d}
    assert all(p is parameters[name] for name, p in model.named_parameters())  # an optimizer built before stays valid
    assert all(b is buffers[name] for name, b in model.named_buffers())
    assert norm_types(to_local_batchnorm(model)) == {PrefixBatchNorm2d}
    assert all(p is parameters[name] for name, p in model.named_parameters())


def test_synced_norm_in_a_one_process_group_matches_the_local_one(tmp_path):
    local = PrefixBatchNorm2d(6).train()
    synced = to_synced_batchnorm(torch.nn.Sequential(PrefixBatchNorm2d(6).train()))[0]
    x = torch.randn(4, 3, 5, 5)  # the first 3 of 6 channels
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        y = synced(x)
    finally:
        dist.destroy_process_group()
    torch.testing.assert_close(y, local(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(synced.running_mean, local.running_mean, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(synced.running_var, local.running_var, rtol=1e-5, atol=1e-6)


def test_recalibration_of_a_synced_model_runs_in_one_process_without_a_group():
    """Under torchrun rank 0 evaluates alone: the recalibrated copy must not enter a collective."""
    generator = torch.Generator().manual_seed(0)
    calibration = ImageDataset(torch.randint(0, 256, (64, 3, 16, 16), dtype=torch.uint8, generator=generator),
                               torch.zeros(64, dtype=torch.long), [str(i) for i in range(10)])
    model = create_model("dnnet_resnet8_g4", image_size=16)
    expected = recalibrated(model, 2, calibration, MEAN, STD)
    assert not dist.is_initialized()
    twin = recalibrated(to_synced_batchnorm(model), 2, calibration, MEAN, STD)
    assert norm_types(twin) == {PrefixBatchNorm2d} and norm_types(model) == {SyncedPrefixBatchNorm2d}
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(twin.state_dict()[name], value, rtol=0, atol=0, msg=name)
