"""Images brought to the one size a network takes (`--image-size N`): the short side resized to N and the centre
cropped to N x N, with PIL's bilinear filter; the same function prepares a pretrained network's input, so that an image
is seen at deployment exactly as in training."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from dnnet.data.splits import ImageDataset
from dnnet.utils.amounts import check_image_size

__all__ = ["check_image_size", "fit_dataset", "fit_image"]


def fit_image(pixels: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) uint8 pixels at `size` x `size`: short side resized to `size`, the centre kept; unchanged at that size."""
    height, width = pixels.shape[:2]
    if (height, width) == (size, size):
        return pixels
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    scale = size / min(height, width)
    resized = image.resize((max(size, round(width * scale)), max(size, round(height * scale))), Image.BILINEAR)
    left, top = (resized.width - size) // 2, (resized.height - size) // 2
    fitted = np.array(resized.crop((left, top, left + size, top + size)), dtype=np.uint8)  # a writable copy
    return fitted[:, :, None] if fitted.ndim == 2 else fitted


def fit_dataset(dataset: ImageDataset, size: int) -> ImageDataset:
    """Every image of `dataset` fitted to `size` (the labels, classes and skipped files kept)."""
    if tuple(dataset.images.shape[2:]) == (size, size):
        return dataset
    pixels = dataset.images.permute(0, 2, 3, 1).numpy()
    fitted = np.stack([fit_image(image, size) for image in pixels]).transpose(0, 3, 1, 2)
    return ImageDataset(torch.from_numpy(fitted.copy()), dataset.labels, dataset.classes, skipped=dataset.skipped)
