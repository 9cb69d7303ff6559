"""The names users of timm reach for: forward_features / forward_head, num_classes, reset_classifier, list_models."""

import pytest
import torch
from conftest import randomize_batchnorm

from dnnet import create_model, slice_subnet
from dnnet.errors import UserError
from dnnet.models import list_models

CELLS = [(d, w) for d in range(1, 5) for w in range(1, 5)]


@pytest.fixture(params=[False, True], ids=["summed_heads", "cell_heads"])
def model(request):
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8, cell_heads=request.param)
    randomize_batchnorm(model)
    return model.eval()


@pytest.mark.parametrize("depth,width", CELLS)
def test_features_then_head_is_the_cell(model, depth, width):
    x = torch.randn(3, 3, 8, 8)
    features = model.forward_features(x, depth, width)
    assert features.shape[1] == width * model.config.exit_group_channels(depth)
    assert torch.equal(model.forward_head(features, depth), model(x, depth, width))


def test_reset_classifier_gives_every_cell_new_classes_and_keeps_the_rest(model):
    stem = model.stem.weight.detach().clone()
    model.reset_classifier(3)
    x = torch.randn(2, 3, 8, 8)
    assert model.num_classes == 3 and model.config.num_classes == 3
    assert model(x).shape == (2, 3) and model.forward_all(x).shape == (2, 4, 4, 3)
    assert torch.equal(model.stem.weight, stem)
    subnet = slice_subnet(model, 2, 3).eval()
    torch.testing.assert_close(subnet(x), model(x, 2, 3), rtol=1e-5, atol=1e-6)
    with pytest.raises(UserError, match="num_classes must be at least 1"):
        model.reset_classifier(0)


def test_list_models_filters_by_pattern():
    assert list_models() == list_models("*") and "dnnet_resnet32_g22" in list_models()
    dnnets = list_models("dnnet_*")
    assert dnnets and all(name.startswith("dnnet_") for name in dnnets) and "resnet32" not in dnnets
    assert list_models("no such network*") == []


def test_list_models_with_pretrained_names_the_presets_whose_weights_ship():
    from dnnet.models.shipped_weights import SHIPPED

    assert list_models(pretrained=True) == sorted(SHIPPED) == ["dnnet_resnet20_g8"]
    assert list_models("resnet*", pretrained=True) == []


@pytest.mark.parametrize("preset, arguments, refused, hint", [
    ("dnnet_resnet8_g4", {"in_chans": 1}, "in_chans", "did you mean in_channels?"),
    ("dnnet_resnet8_g4", {"drop_rate": 0.1, "features_only": True}, "drop_rate, features_only", None),
    ("dnnet_resnet8_g4", {"blocks_per_stage": 2}, "blocks_per_stage", None),  # the preset sets it itself
    ("resnet32", {"causal": True}, "causal", None),  # a dense comparator stays dense
])
def test_an_argument_a_preset_does_not_take_is_one_line_naming_those_it_does(preset, arguments, refused, hint):
    from dnnet.errors import UserError
    from dnnet.models.registry import accepted_arguments

    with pytest.raises(UserError) as error:
        create_model(preset, **arguments)
    message = str(error.value)
    assert message.startswith(f"create_model({preset!r}) does not take {refused}")
    assert message.endswith(f"it takes: {', '.join(accepted_arguments(preset))}") and "\n" not in message
    assert (hint in message) if hint else "did you mean" not in message
    assert "blocks_per_stage" not in accepted_arguments("dnnet_resnet8_g4") and "num_classes" in accepted_arguments(preset)
