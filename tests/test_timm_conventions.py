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
