"""The baselines' machinery: the sandwich rule's widths, batch norm recalibration, the fine-tuned last classifier."""

import pytest
import torch

from dnnet import create_model
from dnnet.baselines import fit_linear_classifier, pooled_features
from dnnet.data import ImageDataset, normalize
from dnnet.evaluation import recalibrated
from dnnet.train.objective import TrainingForward, resolve_weighting
from dnnet.train.sandwich import sandwich_loss, sandwich_widths

MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def images(count: int, size: int = 16, seed: int = 0) -> ImageDataset:
    generator = torch.Generator().manual_seed(seed)
    return ImageDataset(torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=generator),
                        torch.randint(0, 10, (count,), generator=generator), [str(i) for i in range(10)])


@pytest.mark.parametrize("groups", [1, 2, 3, 6, 8, 16])
def test_sandwich_widths_hold_smallest_largest_and_two_random(groups):
    for step in range(20):
        widths = sandwich_widths(groups, seed=0, step=step)
        assert widths == sorted(set(widths)) and widths[0] == 1 and widths[-1] == groups
        assert len(widths) == min(groups, 4)
        assert widths == sandwich_widths(groups, seed=0, step=step)  # a resumed run samples the same


def test_sandwich_widths_vary_with_the_step():
    assert len({tuple(sandwich_widths(16, 0, step)) for step in range(30)}) > 10


def test_sandwich_logits_are_the_sampled_widths_last_exit():
    model = create_model("resnet20", groups=6, image_size=16).eval()
    x = torch.randn(2, 3, 16, 16)
    widths = sandwich_widths(6, 3, 0)
    logits = TrainingForward(model)(x, widths)
    assert logits.shape == (2, 1, len(widths), 10)
    for i, w in enumerate(widths):
        torch.testing.assert_close(logits[:, 0, i], model(x, width=w), rtol=0, atol=0)
    loss = sandwich_loss(model)
    assert loss.weights.shape == (1, 4) and loss.distill_weight == 1.0
    assert torch.equal(loss.weights, torch.ones(1, 4))  # summed over the sampled widths


def test_recalibrated_statistics_are_the_average_over_the_calibration_images():
    model = create_model("resnet20", groups=4, image_size=16)
    calibration = images(512)
    twin = recalibrated(model, 2, calibration, MEAN, STD, batch_size=256)
    with torch.no_grad():
        stem = model.stem(normalize(calibration.images, MEAN, STD), 2)  # 2 groups of 1 channel
    channels = stem.shape[1]
    torch.testing.assert_close(twin.stem_bn.running_mean[:channels], stem.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-6)
    # the channels of wider groups were never seen at width 2: their statistics stay reset
    assert torch.equal(twin.stem_bn.running_mean[channels:], torch.zeros(4 - channels))
    assert torch.equal(twin.stem_bn.running_var[channels:], torch.ones(4 - channels))
    assert not twin.training and model.stem_bn.running_mean.abs().sum() == 0  # the original is untouched


def test_pooled_features_are_what_the_last_classifier_sees():
    model = create_model("resnet20", groups=4, image_size=16).eval()
    data = images(6)
    for width in range(1, 5):
        features = pooled_features(model, data, MEAN, STD, width)
        weight, bias = model.heads[-1].merged_linear(width)
        with torch.no_grad():
            expected = model(normalize(data.images, MEAN, STD), width=width)
        torch.testing.assert_close(features @ weight.T + bias, expected, rtol=1e-5, atol=1e-5)


def test_fitted_classifier_is_a_minimum():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(300, 5, generator=generator)
    labels = (features[:, 0] + 0.3 * torch.randn(300, generator=generator) > 0).long() + 2 * (features[:, 1] > 0).long()
    weight, bias = fit_linear_classifier(features, labels, torch.zeros(4, 5), torch.zeros(4), weight_decay=1e-2)
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(features @ weight.T + bias, labels) + 0.5e-2 * weight.pow(2).sum()
    loss.backward()
    assert weight.grad.abs().max() < 1e-3 and bias.grad.abs().max() < 1e-3
    assert ((features @ weight.T + bias).argmax(-1) == labels).double().mean() > 0.85


@pytest.mark.parametrize("preset, expected", [("dnnet_resnet20_g8", "uniform"), ("resnet20", "final"),
                                              ("resnet20_anytime", "depth_only"), ("resnet32", "final")])
def test_auto_weighting_follows_the_architecture(preset, expected):
    assert resolve_weighting(create_model(preset).config, "auto") == expected
    assert resolve_weighting(create_model(preset).config, "macs") == "macs"


@pytest.mark.parametrize("preset, groups, channels", [("resnet20", 6, (6, 12, 24)), ("resnet20_anytime", 3, (3, 6, 12)),
                                                       ("dnnet_resnet20_g8", 5, (5, 10, 20)), ("resnet32", 4, (4, 8, 16))])
def test_every_preset_takes_fewer_groups(preset, groups, channels):
    config = create_model(preset, groups=groups).config
    assert config.groups == groups and config.stage_channels == channels
