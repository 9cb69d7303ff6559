"""--image-size N: every image fitted to N x N (short side resized, centre cropped), in training, evaluation and the
weights' preprocessing alike; images of several sizes become one data set."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from dnnet.cli.main import main
from dnnet.data import load_data, normalize
from dnnet.data.image_size import fit_image
from dnnet.errors import UserError
from dnnet.train import TrainConfig


def test_the_short_side_is_resized_and_the_centre_kept():
    pixels = np.zeros((20, 60, 3), dtype=np.uint8)
    pixels[:, 20:40] = 255  # the middle third white
    fitted = fit_image(pixels, 10)
    assert fitted.shape == (10, 10, 3) and fitted.dtype == np.uint8
    assert (fitted[:, 1:-1] == 255).all() and (fitted[:, [0, -1]] > 128).all()  # 20x60 -> 10x30: the white third
    # kept, its edge columns blended with the black by the bilinear filter
    assert fit_image(pixels[:, :20], 20) is not None and fit_image(fitted, 10) is fitted  # a square of the size: as is


def test_a_named_data_set_is_fitted_and_its_shape_recorded():
    data = load_data("digits", image_size=24)
    assert data.image_shape == (3, 24, 24) and len(data.train) == len(load_data("digits").train)


@pytest.mark.parametrize("size", [4, 2000, 16.5, True])
def test_sizes_out_of_range_are_refused(size):
    with pytest.raises(UserError, match="image_size must be an integer from 8 to 1024 pixels"):
        TrainConfig.from_flat(image_size=size)


@pytest.fixture
def mixed_folder(tmp_path):
    generator = np.random.default_rng(0)
    for label, base in (("cat", 40), ("dog", 200)):
        (tmp_path / "mixed" / label).mkdir(parents=True)
        for index in range(9):
            height, width = [(20, 30), (40, 28), (24, 24)][index % 3]
            pixels = (base + generator.integers(0, 30, (height, width, 3))).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "mixed" / label / f"{index}.png")
    return tmp_path / "mixed"


def test_images_of_several_sizes_train_evaluate_and_deploy_at_one_size(mixed_folder, tmp_path, capsys):
    run, cache = tmp_path / "run", tmp_path / "cache"
    common = ["--data", str(mixed_folder), "--val-count", "3", "--epochs", "1", "--quiet", "--cache-dir", str(cache)]
    assert main(["train", *common, "--out", str(tmp_path / "refused")]) == 2
    assert "images differ in size" in capsys.readouterr().err
    assert main(["train", *common, "--image-size", "16", "--out", str(run)]) == 0
    record = json.loads((run / "config.json").read_text())
    assert record["train_config"]["image_size"] == 16 and record["data"]["image_shape"] == [3, 16, 16]
    assert main(["eval", str(run), "--split", "test", "--cache-dir", str(cache)]) == 0
    assert main(["pretrained", str(run), "--out", str(tmp_path / "weights")]) == 0
    from dnnet import DNNet

    cfg = DNNet.from_pretrained(tmp_path / "weights").pretrained_cfg
    original = np.asarray(Image.open(mixed_folder / "dog" / "1.png").convert("RGB"))  # 40 x 28
    trained_on = torch.from_numpy(fit_image(original, 16)).permute(2, 0, 1)[None]
    torch.testing.assert_close(cfg.prepare(original), normalize(trained_on, list(cfg.mean), list(cfg.std)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("image_size, crop, resized_crop", [(None, None, False), (12, None, True), (12, "padded", False),
                                                           (None, "resized", True)])
def test_images_fitted_to_a_size_train_on_random_resized_crops(tmp_path, monkeypatch, image_size, crop, resized_crop):
    """The ImageNet recipe's crop with --image-size, the CIFAR recipe's padded crop without, unless --crop says."""
    from dnnet.train import epoch_loop, train

    asked = set()
    real_augment = epoch_loop.augment

    def recording_augment(images, generator, **kwargs):
        asked.add(kwargs.get("resized_crop"))
        return real_augment(images, generator, **kwargs)

    monkeypatch.setattr(epoch_loop, "augment", recording_augment)
    config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", data="digits", epochs=1, batch_size=512,
                                   image_size=image_size, crop=crop, channels_last=False)
    train(config, tmp_path / "run", show_progress=False)
    assert asked == {resized_crop}
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train_config"]["crop"] == crop


def test_an_unknown_crop_is_refused():
    with pytest.raises(UserError, match="crop must be one of padded, resized, got 'random'"):
        TrainConfig.from_flat(crop="random")
