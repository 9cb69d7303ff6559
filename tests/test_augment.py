"""Training augmentation (crop, resized crop, flip) and normalisation: exact, repeatable from its generator, resumable."""

import torch

from dnnet.data import augment, channel_stats, load_data, normalize
from dnnet.data.augment import random_crop, random_flip, random_resized_crop


def test_crop_is_a_shift_with_zero_fill():
    images = torch.arange(1, 17, dtype=torch.uint8).reshape(1, 1, 4, 4).repeat(64, 2, 1, 1)
    out = random_crop(images, 1, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(images[0, 0], (1, 1, 1, 1))
    windows = {tuple(padded[dy : dy + 4, dx : dx + 4].flatten().tolist()) for dy in range(3) for dx in range(3)}
    seen = {tuple(img[0].flatten().tolist()) for img in out}
    assert seen <= windows and len(seen) == 9  # every one of the 9 shifts occurs in 64 draws
    assert torch.equal(out[:, 0], out[:, 1])  # channels of one image move together


def test_flip_mirrors_some_and_keeps_others():
    images = torch.arange(4, dtype=torch.uint8).reshape(1, 1, 1, 4).repeat(32, 1, 1, 1)
    out = random_flip(images, torch.Generator().manual_seed(1))
    rows = {tuple(r.flatten().tolist()) for r in out}
    assert rows == {(0, 1, 2, 3), (3, 2, 1, 0)}


def test_augment_is_repeatable_from_the_generator():
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    a = augment(images, torch.Generator().manual_seed(3))
    b = augment(images, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    no_crop_no_flip = augment(images, torch.Generator().manual_seed(3), padding=0, flip=False)
    assert torch.equal(no_crop_no_flip, images)


def test_digits_are_cropped_but_never_flipped():
    data = load_data("digits")
    images = data.train.images[:256]
    # as the training loop calls it; without a flip, augment is exactly the crop of the same draws
    augmented = augment(images, torch.Generator().manual_seed(0), flip=data.flip)
    assert data.flip is False
    assert torch.equal(augmented, random_crop(images, 2, torch.Generator().manual_seed(0)))
    assert not torch.equal(augment(images, torch.Generator().manual_seed(0), flip=True), augmented)


def test_normalize_gives_zero_mean_unit_std():
    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    mean, std = channel_stats(images)
    x = normalize(images, mean, std)
    torch.testing.assert_close(x.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std((0, 2, 3)), torch.ones(3), atol=1e-3, rtol=0)


def test_the_augmentation_stream_resumes_on_its_device_kind_and_starts_afresh_on_another(capsys):
    from dnnet.train.epoch_loop import augmentation_stream
    from dnnet.train.epoch_position import EpochPosition
    from dnnet.train.random_streams import random_stream

    cpu = torch.device("cpu")
    walked = random_stream(5, "augmentation", 2)
    torch.rand(7, generator=walked)
    position = EpochPosition(epoch=2, step=3, generator_state=walked.get_state())
    resumed = augmentation_stream(5, position, cpu)
    assert torch.equal(torch.rand(4, generator=resumed), torch.rand(4, generator=walked))  # where it stood
    assert capsys.readouterr().err == ""
    position.generator_device = "cuda"  # a checkpoint written on a GPU: its state means nothing here
    fresh = augmentation_stream(5, position, cpu)
    assert torch.equal(torch.rand(4, generator=fresh), torch.rand(4, generator=random_stream(5, "augmentation", 2)))
    assert capsys.readouterr().err == ("dnnet: the checkpoint's augmentation stream was drawn on cuda; epoch 3 continues "
                                       "on cpu from a fresh stream\n")


def ramp(batch=64, side=32):
    """Images whose pixel value is their column: a crop shows which columns it kept."""
    columns = torch.linspace(0, 255, side).round().to(torch.uint8)
    return columns.reshape(1, 1, 1, side).expand(batch, 3, side, side).contiguous()


def test_a_whole_square_resized_crop_is_the_image():
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    assert torch.equal(random_resized_crop(images, torch.Generator().manual_seed(0), scale=(1, 1), ratio=(1, 1)), images)


def test_a_quarter_area_square_crop_keeps_half_the_columns_somewhere_inside():
    images = ramp()
    out = random_resized_crop(images, torch.Generator().manual_seed(0), scale=(0.25, 0.25), ratio=(1, 1))
    assert out.shape == images.shape and out.dtype == torch.uint8
    spans = out[:, 0, 0, -1].float() - out[:, 0, 0, 0].float()  # last kept column minus first, per image
    assert torch.all((spans - 255 / 2).abs() < 255 / 31 + 1)  # half the columns, to the bilinear half-pixel
    first = out[:, 0, 0, 0].float()  # the first kept column: anywhere the half-width box still fits
    assert torch.all(first <= 255 / 2 + 255 / 31 + 1) and len(set(first.tolist())) > 8  # at random places
    assert torch.equal(out[:, 0], out[:, 2])  # channels of one image move together


def test_resized_crops_are_repeatable_and_flip_as_the_cifar_crops_do():
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    a = augment(images, torch.Generator().manual_seed(3), resized_crop=True)
    assert torch.equal(a, augment(images, torch.Generator().manual_seed(3), resized_crop=True))
    assert not torch.equal(a, augment(images, torch.Generator().manual_seed(3)))
    no_flip = augment(images, torch.Generator().manual_seed(3), flip=False, resized_crop=True)
    assert torch.equal(no_flip, random_resized_crop(images, torch.Generator().manual_seed(3)))
