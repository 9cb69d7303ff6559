"""Resource accounting (MACs, parameters, feature maps, activation memory) of every cell, against independent counters."""

import pytest
import torch
from conftest import randomize_batchnorm
from live_tensors import measure_peak_bytes
from torch.utils.flop_counter import FlopCounterMode

from dnnet import cell_resources, create_model, grid_resources, slice_subnet
from dnnet.accounting import model_params
from dnnet.selection import deepest_exit_at_width
from dnnet.slicing import fold_batchnorm

VARIANTS = [
    ("dnnet_resnet8_g4", {}),
    ("dnnet_resnet8_g4", {"shortcut": "project"}),
    ("dnnet_resnet20_g8", {}),
    ("resnet32_anytime", {"width_multiplier": 0.25}),
    ("dnnet_resnet8_g4", {"stem": "imagenet"}),
    ("dnnet_resnet8_g4", {"block": "bottleneck", "shortcut": "project"}),
    ("dnnet_resnet8_g4", {"stem": "imagenet", "block": "bottleneck"}),
]
PAPER_SAMPLE = [(1, 1), (2, 5), (6, 22), (7, 1), (11, 13), (14, 12), (16, 22)]


def cells(config):
    return [(d, w) for d in range(1, config.num_exits + 1) for w in range(1, config.groups + 1)]


def counted_flops(module, x):
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    return counter.get_total_flops()


def nonzero_weight_macs(subnet, x):
    """Needed MACs counted from the slice: each non-zero conv weight once per output pixel."""
    macs = 0

    def count(module, inputs, output):
        nonlocal macs
        macs += int(torch.count_nonzero(module.weight)) * output.shape[-1] * output.shape[-2]

    handles = [m.register_forward_hook(count) for m in subnet.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        subnet(x)
    for handle in handles:
        handle.remove()
    return macs + int(torch.count_nonzero(subnet.fc.weight))


def check_cell_against_slice(model, depth, width):
    x = torch.randn(1, 3, 32, 32)
    expected = cell_resources(model.config, depth, width)
    subnet = slice_subnet(model, depth, width)
    assert counted_flops(subnet, x) == 2 * expected.dense_macs  # FlopCounterMode counts 2 FLOPs per MAC
    assert nonzero_weight_macs(subnet, x) == expected.macs
    assert sum(p.numel() for p in subnet.parameters()) == expected.dense_params
    assert sum(int(torch.count_nonzero(p)) for p in subnet.parameters()) == expected.params
    assert measure_peak_bytes(fold_batchnorm(subnet), x) == expected.peak_act_bytes
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.numel())) for m in subnet.modules()
             if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        subnet(x)
    for hook in hooks:
        hook.remove()
    assert max(sizes) == expected.largest_feature_map_values


@pytest.mark.parametrize("name,kwargs", VARIANTS)
def test_accounting_matches_independent_counters_on_every_cell(name, kwargs):
    model = randomize_batchnorm(create_model(name, **kwargs)).eval()  # random BN: no parameter is 0 by chance
    for depth, width in cells(model.config):
        check_cell_against_slice(model, depth, width)


@pytest.mark.slow
@pytest.mark.parametrize("depth,width", PAPER_SAMPLE)
def test_accounting_matches_independent_counters_on_the_paper_preset(depth, width):
    model = randomize_batchnorm(create_model("dnnet_resnet32_g22")).eval()
    check_cell_against_slice(model, depth, width)


def test_needed_macs_are_about_half_of_dense_at_full_width():
    full = cell_resources(create_model("dnnet_resnet32_g22").config, 16, 22)
    # a 22-group causal conv uses (22 * 23 / 2) / 22^2 = 52.3% of the dense blocks
    assert 0.52 < full.macs / full.dense_macs < 0.53


def test_paper_figures_under_24m_macs():
    """The paper's Figure 5 claim: the depth-only ResNet-32 stops at D5, DNNet's D14 & W12 fits."""
    anytime = grid_resources(create_model("resnet32_anytime").config)
    assert deepest_exit_at_width(anytime, 16, {"macs": 24e6}).depth == 5
    assert cell_resources(create_model("resnet32_anytime").config, 6, 16).macs > 24e6
    assert cell_resources(create_model("dnnet_resnet32_g22").config, 14, 12).macs <= 24e6


def test_known_values_of_the_plain_resnet32():
    plain = cell_resources(create_model("resnet32").config, 1, 16)
    # counted by hand: 0.46M parameters and 69M MACs, the usual ResNet-32 figures
    conv_weights = 3 * 16 * 9 + 10 * 16 * 16 * 9 + (16 * 32 + 9 * 32 * 32) * 9 + (32 * 64 + 9 * 64 * 64) * 9
    batchnorm = 2 * (16 + 10 * 16 + 10 * 32 + 10 * 64)
    assert plain.params == conv_weights + batchnorm + 64 * 10 + 10 == 464_154
    stage_macs = 3 * 16 * 9 * 32**2 + 10 * 16 * 16 * 9 * 32**2 + (16 * 32 + 9 * 32 * 32) * 9 * 16**2
    stage_macs += (32 * 64 + 9 * 64 * 64) * 9 * 8**2
    assert plain.macs == stage_macs + 64 * 10 == 68_862_592
    assert plain.largest_feature_map_values == 16 * 32 * 32


@pytest.mark.parametrize("cell_heads,width_conditioning", [(False, False), (True, False), (True, True)])
def test_model_params_counts_every_exit_once(cell_heads, width_conditioning):
    model = create_model("dnnet_resnet8_g4", shortcut="project", cell_heads=cell_heads, width_conditioning=width_conditioning)
    stored = sum(p.numel() for p in model.parameters())
    masked_zeros = sum(int((1 - m.mask).sum()) * m.kernel_size**2 for m in model.modules() if hasattr(m, "mask"))
    unused_head_weights = sum(int((1 - m.used).sum()) * m.num_classes * m.group_channels
                              for m in model.modules() if getattr(m, "per_width", False))
    # width w's scale and shift read its w groups: the rest of each row is never used
    unused_conditioning = sum(2 * (m.num_features // m.groups) * sum(m.groups - w for w in range(1, m.groups + 1))
                              for m in model.modules() if getattr(m, "width_conditioned", False))
    assert (unused_conditioning > 0) == width_conditioning
    assert model_params(model.config) == stored - masked_zeros - unused_head_weights - unused_conditioning


def test_grid_is_depth_major_and_complete():
    config = create_model("dnnet_resnet8_g4").config
    grid = grid_resources(config)
    assert [(c.depth, c.width) for c in grid] == cells(config)
    assert all(a.macs < b.macs for a, b in zip(grid, grid[1:]) if a.depth == b.depth)
