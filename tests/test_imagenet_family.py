"""The ImageNet-style family: stages as a list, the 7x7 stride-2 stem with its max pool, bottleneck blocks. The dense
ResNet-18 and ResNet-50 at 224 px and 1000 classes are the reference architectures in parameters and MACs; the
CIFAR presets keep their configs (tests/test_slicing.py and test_accounting.py run the new family's small variants)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dnnet import cell_resources, create_model
from dnnet.accounting import model_params
from dnnet.config import NetConfig
from dnnet.errors import UserError

# torchvision's resnet18 / resnet50: parameters, and multiply-adds as torch's FLOP counter counts them (2 FLOPs each)
REFERENCE = {"resnet18": (11_689_512, 1_814_073_344), "resnet50": (25_557_032, 4_089_184_256)}


def meta_model(name, **kwargs):
    """The architecture without memory for its weights: a 224-px pass costs nothing."""
    with torch.device("meta"):
        return create_model(name, num_classes=1000, **kwargs)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_the_dense_comparators_are_the_reference_architectures(name):
    params, macs = REFERENCE[name]
    model = meta_model(name)
    assert sum(p.numel() for p in model.parameters()) == params
    assert model_params(model.config) == params
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    assert counter.get_total_flops() == 2 * macs
    full = cell_resources(model.config, *model.config.grid_shape)
    assert (full.dense_macs, full.macs, full.dense_params) == (macs, macs, params)


@pytest.mark.parametrize("dnnet, plain", [("dnnet_resnet18_g8", "resnet18"), ("dnnet_resnet50_g8", "resnet50")])
def test_the_doubly_nested_networks_need_fewer_macs_than_their_dense_twins(dnnet, plain):
    """Causal convolutions drop the blocks above the diagonal: at full width about (G + 1) / 2G of the dense MACs,
    the stem and the classifier whole."""
    nested, dense = meta_model(dnnet).config, meta_model(plain).config
    assert nested.stage_channels == dense.stage_channels
    full = cell_resources(nested, nested.num_exits, nested.groups)
    assert full.dense_macs == cell_resources(dense, 1, dense.groups).dense_macs
    assert 0.55 < full.macs / full.dense_macs < 0.60  # (8 + 1) / 16 = 0.5625 for the blocks


@pytest.mark.parametrize("name, exits, layers, channels", [
    ("dnnet_resnet18_g8", 9, 18, (64, 128, 256, 512)), ("dnnet_resnet50_g8", 17, 50, (256, 512, 1024, 2048)),
    ("resnet18_anytime", 9, 18, (64, 128, 256, 512)), ("resnet50_anytime", 17, 50, (256, 512, 1024, 2048))])
def test_the_presets_grids(name, exits, layers, channels):
    config = meta_model(name).config
    assert (config.num_exits, config.groups, config.num_layers, config.stage_channels) == (exits, 8, layers, channels)
    assert all(c % 8 == 0 for width in range(1, 9) for c in (width * g for g in config.group_channels))


@pytest.mark.parametrize("image_size, stem_size, last_size", [(224, 56, 7), (64, 16, 2), (32, 8, 1), (65, 17, 3)])
def test_sizes_follow_the_stem_and_the_strides(image_size, stem_size, last_size):
    config = meta_model("dnnet_resnet50_g8", image_size=image_size).config
    assert config.stem_size == stem_size
    assert config.blocks()[-1].out_size == last_size
    model = create_model("dnnet_resnet8_g4", stem="imagenet", block="bottleneck", image_size=image_size)
    features = model.forward_features(torch.randn(1, 3, image_size, image_size))
    assert features.shape[-1] == model.config.blocks()[-1].out_size


def test_bottleneck_plans_name_every_convolution():
    config = NetConfig(blocks_per_stage=(1, 2), groups=2, group_channels=(2, 3), block="bottleneck", shortcut="project")
    plans = config.blocks()
    assert [(p.in_group_channels, p.mid_group_channels, p.out_group_channels, p.stride, p.shortcut) for p in plans] == [
        (2, 2, 8, 1, "project"), (8, 3, 12, 2, "project"), (12, 3, 12, 1, "identity")]
    assert plans[1].conv_group_channels == ((8, 3), (3, 3), (3, 12))
    assert [config.exit_group_channels(d) for d in range(1, 5)] == [2, 8, 12, 12]


def test_a_cifar_config_reads_and_writes_as_before():
    config = create_model("dnnet_resnet20_g8").config
    assert "stem" not in config.to_dict() and "block" not in config.to_dict()
    assert config.to_dict()["blocks_per_stage"] == 3 and config.stage_blocks == (3, 3, 3)
    assert NetConfig.from_dict(config.to_dict()) == config


def test_an_imagenet_config_round_trips():
    config = meta_model("dnnet_resnet50_g8").config
    values = config.to_dict()
    assert (values["stem"], values["block"], values["blocks_per_stage"]) == ("imagenet", "bottleneck", [3, 4, 6, 3])
    assert NetConfig.from_dict(values) == config


@pytest.mark.parametrize("settings, message", [
    ({"blocks_per_stage": (1, 2), "group_channels": (1, 2, 4)}, "blocks_per_stage gives 2 stages and group_channels 3"),
    ({"blocks_per_stage": (1, 0, 1)}, "blocks_per_stage must be a positive integer"),
    ({"blocks_per_stage": "3"}, "blocks_per_stage must be positive integers"),
    ({"group_channels": ()}, "group_channels must be positive integers"),
    ({"stem": "vit"}, "stem must be one of"),
    ({"block": "inverted"}, "block must be one of"),
])
def test_a_bad_layout_is_one_line(settings, message):
    with pytest.raises(UserError, match=message):
        NetConfig(**settings)
