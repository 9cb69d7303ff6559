"""The DNNet model: forward_all, cells, exits, causality, the presets' grids and block plans."""

import warnings

import pytest
import torch

from dnnet import NetConfig, create_model, list_models
from dnnet.loss import JointLoss, cell_weights

# the ImageNet family with 3 groups: its structure (max-pool stem, bottlenecks, four stages) at a test's size
SMALL_PRESETS = ["dnnet_resnet8_g4", "dnnet_resnet20_g8", "dnnet_resnet18_g8", "dnnet_resnet50_g8"]
PRESET_KWARGS = {"resnet32": {"width_multiplier": 0.25}, "resnet32_anytime": {"width_multiplier": 0.25},
                 **{name: {"groups": 3} for name in ["dnnet_resnet18_g8", "dnnet_resnet50_g8", "resnet18", "resnet50",
                                                     "resnet18_anytime", "resnet50_anytime"]}}


def build(name, **kwargs):
    return create_model(name, **{**PRESET_KWARGS.get(name, {}), **kwargs})


@pytest.mark.parametrize("name", list_models())
def test_forward_all_shape_and_finite(name):
    model = build(name)
    config = model.config
    logits = model.forward_all(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, config.num_exits, config.groups, 10)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", list_models())
def test_every_parameter_gets_a_gradient_from_the_joint_loss(name):
    model = build(name)
    loss = JointLoss(cell_weights(model.config))(model.forward_all(torch.randn(2, 3, 32, 32)), torch.tensor([1, 7]))
    loss.backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None and torch.count_nonzero(param.grad) > 0, param_name


def test_presets_have_the_promised_grids():
    expected = {
        "dnnet_resnet32_g22": (16, 22, 32, (22, 44, 88)),
        "dnnet_resnet20_g8": (10, 8, 20, (8, 16, 32)),
        "dnnet_resnet8_g4": (4, 4, 8, (4, 8, 16)),
        "resnet32": (1, 16, 32, (16, 32, 64)),
        "resnet32_anytime": (16, 16, 32, (16, 32, 64)),
    }
    for name, (depths, widths, layers, channels) in expected.items():
        config = create_model(name).config
        assert (config.num_exits, config.groups, config.num_layers, config.stage_channels) == (depths, widths, layers, channels)
    assert create_model("resnet32", width_multiplier=0.5).config.stage_channels == (8, 16, 32)


@pytest.mark.parametrize("name", SMALL_PRESETS)
@pytest.mark.parametrize("shortcut", ["pad", "project"])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_whole_network_is_causal(name, shortcut, training, where):
    """Changing groups > k of a block's input cannot move any logit of widths <= k, at any exit."""
    model = build(name, shortcut=shortcut).train(training)
    config = model.config
    block_index = {"first": 0, "middle": config.num_blocks // 2, "last": config.num_blocks - 1}[where]
    block = model.blocks[block_index]
    x = torch.randn(4, 3, 32, 32)
    reference = model.forward_all(x)
    for k in range(1, config.groups):
        in_gc = block.conv1.in_group_channels

        def perturb_later_groups(module, inputs, k=k, in_gc=in_gc):
            changed = inputs[0].clone()
            changed[:, k * in_gc :] += torch.randn_like(changed[:, k * in_gc :])
            return (changed,)

        handle = block.register_forward_pre_hook(perturb_later_groups)
        changed = model.forward_all(x)
        handle.remove()
        assert torch.equal(changed[:, :, :k], reference[:, :, :k]), k
        assert not torch.allclose(changed[:, -1, k:], reference[:, -1, k:]), k


def test_dense_network_is_not_causal():
    """The check above can fail: the same perturbation moves narrow widths of a dense network."""
    model = build("resnet32_anytime").eval()
    x = torch.randn(2, 3, 32, 32)
    reference = model.forward_exits(x)
    handle = model.blocks[0].register_forward_pre_hook(lambda m, inputs: (inputs[0] + (torch.arange(4) >= 1).float()[None, :, None, None],))
    changed = model.forward_exits(x)
    handle.remove()
    assert not torch.allclose(changed, reference)


@pytest.mark.parametrize("name", SMALL_PRESETS + ["resnet32_anytime"])
def test_forward_of_a_cell_equals_its_forward_all_entry(name):
    model = build(name).eval()
    x = torch.randn(3, 3, 32, 32)
    everything = model.forward_all(x)
    for depth in range(1, model.config.num_exits + 1):
        for width in range(1, model.config.groups + 1):
            torch.testing.assert_close(model(x, depth, width), everything[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)


def test_forward_exits_matches_forward_all_column():
    model = build("dnnet_resnet8_g4").eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model.forward_exits(x, 3), model.forward_all(x)[:, :, 2], rtol=1e-5, atol=1e-6)


def test_forward_defaults_to_the_full_network():
    model = build("dnnet_resnet8_g4").eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), model.forward_all(x)[:, -1, -1], rtol=1e-5, atol=1e-6)


def test_dnnet_g22_costs_about_a_plain_resnet32():
    from dnnet.accounting import cell_resources

    ours = cell_resources(create_model("dnnet_resnet32_g22").config, 16, 22)
    plain = cell_resources(create_model("resnet32").config, 1, 16)
    assert abs(ours.macs / plain.macs - 1) < 0.02
    assert abs(ours.params / plain.params - 1) < 0.02


@pytest.mark.parametrize(
    "depth,width,message",
    [
        (0, 1, r"depth must be an integer in 1\.\.4 \(the exits\), got 0"),
        (5, 1, r"depth must be an integer in 1\.\.4 \(the exits\), got 5"),
        (1, 0, r"width must be an integer in 1\.\.4 \(the channel groups\), got 0"),
        (1, 5, r"width must be an integer in 1\.\.4 \(the channel groups\), got 5"),
        (1.5, 1, r"depth must be an integer"),
    ],
)
def test_bad_cells_raise(depth, width, message):
    model = build("dnnet_resnet8_g4")
    with pytest.raises(ValueError, match=message):
        model(torch.randn(1, 3, 32, 32), depth, width)


def test_wrong_input_channels_raise():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, H, W\), got \(1, 1, 32, 32\)"):
        build("dnnet_resnet8_g4").forward_all(torch.randn(1, 1, 32, 32))


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="unknown preset 'resnet33'; known presets: dnnet_resnet18_g8, dnnet_resnet20_g8"):
        create_model("resnet33")


def test_config_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"groups=5 does not divide the 16 channels of stage 1"):
        NetConfig.from_channels((16, 32, 64), groups=5)
    assert NetConfig.from_channels((16, 32, 64), groups=8).group_channels == (2, 4, 8)
    with pytest.raises(ValueError, match=r"shortcut='pad' cannot shrink a group: group_channels must not decrease, got \(4, 2, 2\)"):
        NetConfig(group_channels=(4, 2, 2))
    assert NetConfig(group_channels=(4, 2, 2), shortcut="project").blocks()[5].in_group_channels == 4
    with pytest.raises(ValueError, match="shortcut must be one of"):
        NetConfig(shortcut="option_b")
    with pytest.raises(ValueError, match=r"unknown NetConfig keys \['colour'\]"):
        NetConfig.from_dict({"groups": 4, "colour": "red"})
    with pytest.raises(ValueError, match="width_multiplier"):
        create_model("resnet32", width_multiplier=0.3)


def test_block_plan_of_the_paper_resnet32():
    config = create_model("dnnet_resnet32_g22").config
    plans = config.blocks()
    assert [p.index for p in plans] == list(range(1, 16))
    # written out by hand: stages of 5 blocks at 32, 16 and 8 pixels, 1/2/4 channels per group
    expected = [(1, 1, 1, "identity", 32)] * 5 + [(1, 2, 2, "pad", 32)] + [(2, 2, 1, "identity", 16)] * 4
    expected += [(2, 4, 2, "pad", 16)] + [(4, 4, 1, "identity", 8)] * 4
    assert [(p.in_group_channels, p.out_group_channels, p.stride, p.shortcut, p.in_size) for p in plans] == expected
    assert [p.out_size for p in plans] == [32] * 5 + [16] * 5 + [8] * 5
    assert config.blocks(depth=7) == plans[:6]  # exit 7 follows block 6: the stem is exit 1
    assert config.blocks(depth=1) == ()
    assert [config.exit_group_channels(d) for d in (1, 6, 7, 11, 12, 16)] == [1, 1, 2, 2, 4, 4]


def test_block_plan_follows_shortcut_and_exit_placement():
    config = NetConfig(blocks_per_stage=1, groups=2, shortcut="project", exits="last", image_size=9)
    assert [(p.shortcut, p.in_size, p.out_size) for p in config.blocks()] == [("identity", 9, 9), ("project", 9, 5), ("project", 5, 3)]
    assert config.blocks(depth=1) == config.blocks()  # the only exit is the last


def test_registering_a_preset_name_twice_warns():
    from dnnet.models.registry import _BUILDERS, register_model

    def dnnet_resnet8_g4(**kwargs):
        return None

    original = _BUILDERS["dnnet_resnet8_g4"]
    try:
        with pytest.warns(UserWarning, match="preset 'dnnet_resnet8_g4' registered twice"):
            register_model(dnnet_resnet8_g4)
        assert create_model("dnnet_resnet8_g4") is None
    finally:
        _BUILDERS["dnnet_resnet8_g4"] = original
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_model(original)  # the same builder again: nothing to warn about
