"""A split as a torch Dataset: the images normalised as `dnnet train` normalises them, augmented only when asked."""

import pytest
import torch
from torch.utils.data import DataLoader

from dnnet.data import channel_stats, normalize, torch_dataset


def test_items_are_the_training_normalisation_of_each_image(digits):
    dataset = torch_dataset(digits, "val")
    mean, std = channel_stats(digits.train.images)  # the training split's statistics, for every split
    images, labels = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    torch.testing.assert_close(images, normalize(digits.val.images, mean, std), rtol=0, atol=0)
    assert torch.equal(labels, digits.val.labels) and len(dataset) == len(digits.val)


def test_augmented_items_are_crops_of_the_same_image_and_differ_between_draws(digits):
    dataset = torch_dataset(digits, "train", augment=True)
    plain = torch_dataset(digits, "train")
    draws = torch.stack([dataset[3][0] for _ in range(8)])
    assert draws.shape == (8, *plain[3][0].shape) and len({tuple(d.flatten().tolist()) for d in draws}) > 1
    assert dataset.flip is False  # digits are not mirrored, as in training


def test_an_unknown_split_is_named(digits):
    with pytest.raises(ValueError, match="split must be one of train, val, test"):
        torch_dataset(digits, "validation")


def test_resized_crops_only_when_asked(digits, monkeypatch):
    import importlib

    module = importlib.import_module("dnnet.data.torch_dataset")  # the module, not the function of the same name
    asked = []
    monkeypatch.setattr(module, "augment", lambda image, generator, **kwargs: asked.append(kwargs) or image)
    torch_dataset(digits, "train", augment=True, resized_crop=True)[0]
    torch_dataset(digits, "train", augment=True)[0]
    assert [kwargs["resized_crop"] for kwargs in asked] == [True, False]
