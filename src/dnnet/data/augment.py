"""Augmentation in batches with torch ops on uint8, then normalisation (no per-sample Python)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pads by `padding` and crops back at a random offset per image, (N, C, H, W) uint8. The offsets are drawn
    on the generator's device: a generator on the images' device draws them there, with no copy at every step."""
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    on = generator.device
    dy = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=on)
    dx = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=on)
    rows = to_device_async(dy[:, None] + torch.arange(height, device=on), images.device)  # (N, H)
    cols = to_device_async(dx[:, None] + torch.arange(width, device=on), images.device)  # (N, W)
    picked_rows = padded.gather(2, rows[:, None, :, None].expand(batch, channels, height, padded.shape[3]))
    return picked_rows.gather(3, cols[:, None, None, :].expand(batch, channels, height, width))


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirrors a random half of the images left-right."""
    flip = to_device_async(torch.rand(images.shape[0], generator=generator, device=generator.device) < 0.5, images.device)
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def random_resized_crop(images: torch.Tensor, generator: torch.Generator, scale: tuple[float, float] = (0.08, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """The ImageNet recipe's crop, for a batch at once: per image a random box of `scale` of the area and an aspect
    ratio drawn log-uniformly from `ratio` (a side longer than the image's is cut to it), at a random place, resized
    back to the image's size (bilinear); (N, C, H, W) uint8 in and out."""
    batch, _, height, width = images.shape
    on = generator.device
    area = torch.empty(batch, device=on).uniform_(*scale, generator=generator)
    log_ratio = torch.empty(batch, device=on).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)
    box_width = (area * log_ratio.exp()).sqrt().clamp(max=1.0)  # as shares of the image's sides
    box_height = (area / log_ratio.exp()).sqrt().clamp(max=1.0)
    # the box's centre in grid_sample's coordinates (-1..1 across the image), anywhere the whole box fits
    centre_x = (1 - box_width) * (2 * torch.rand(batch, generator=generator, device=on) - 1)
    centre_y = (1 - box_height) * (2 * torch.rand(batch, generator=generator, device=on) - 1)
    theta = torch.zeros(batch, 2, 3, device=on)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = box_width, centre_x, box_height, centre_y
    theta = to_device_async(theta, images.device)
    grid = F.affine_grid(theta, [batch, images.shape[1], height, width], align_corners=False)
    resized = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def augment(images: torch.Tensor, generator: torch.Generator, padding: int | None = None, flip: bool = True,
            resized_crop: bool = False) -> torch.Tensor:
    """The CIFAR recipe: pad-4 random crop (pad = side / 8 by default), then (unless digits) a horizontal flip; with
    `resized_crop`, the ImageNet recipe's random resized crop instead of the padded one (images fitted to a size)."""
    if resized_crop:
        images = random_resized_crop(images, generator)
    else:
        padding = images.shape[-1] // 8 if padding is None else padding
        images = random_crop(images, padding, generator) if padding else images
    return random_flip(images, generator) if flip else images


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation in [0, 1] units, from the training images."""
    pixels = images.float().div_(255).transpose(0, 1).reshape(images.shape[1], -1)
    return pixels.mean(1).tolist(), pixels.std(1).clamp_min(1e-3).tolist()


def normalize(images: torch.Tensor, mean: list[float] | torch.Tensor, std: list[float] | torch.Tensor,
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float, zero mean and unit variance per channel; mean and std per channel, in
    [0, 1] units (tensors already on the images' device are used as they are: no copy at every step)."""
    mean_t = torch.as_tensor(mean, device=images.device, dtype=dtype)[:, None, None]
    std_t = torch.as_tensor(std, device=images.device, dtype=dtype)[:, None, None]
    return (images.to(dtype) / 255 - mean_t) / std_t


def to_device_async(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` on `device`; from the CPU to a GPU through pinned memory, so that the copy does not make the
    host wait for the GPU's queued work (a pageable copy does). A tensor already there is returned as it is."""
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)
