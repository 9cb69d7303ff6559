"""What a pretrained network expects of an image, carried by the network itself (`model.pretrained_cfg`).

Without its preprocessing a trained network answers garbage without saying so (the shipped CIFAR-10 network falls from
84% to 24% on unnormalised images): the folder records mean, std, input shape and class names, and `prepare` turns a
PIL image or a uint8 array into the input exactly as training saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dnnet.data.image_size import fit_image
from dnnet.errors import UserError


@dataclass(frozen=True)
class PretrainedConfig:
    """A pretrained network's preprocessing: pixels / 255, then (x - mean) / std per channel, at `input_size`."""

    mean: tuple[float, ...]  # per channel, in 0..1 units
    std: tuple[float, ...]
    input_size: tuple[int, int, int]  # (channels, height, width)
    classes: tuple[str, ...]  # in label order
    source: str  # the folder the weights came from

    @classmethod
    def from_preprocessing(cls, preprocessing: dict[str, Any], source: str) -> PretrainedConfig | None:
        """From a weights folder's "preprocessing" record; None when the folder records none."""
        if not {"mean", "std", "image_shape"} <= set(preprocessing):
            return None  # a folder that records no preprocessing (save_pretrained without one)
        try:
            mean, std = tuple(_number(v) for v in preprocessing["mean"]), tuple(_number(v) for v in preprocessing["std"])
            input_size = tuple(_count(v) for v in preprocessing["image_shape"])
            classes = tuple(str(name) for name in preprocessing.get("classes", ()))
        except (TypeError, ValueError):
            raise UserError(f"{source}: its preprocessing is not lists of numbers (mean {preprocessing['mean']!r}, std "
                            f"{preprocessing['std']!r}, image_shape {preprocessing['image_shape']!r})") from None
        if len(input_size) != 3 or not len(mean) == len(std) == input_size[0] or not all(s > 0 for s in std):
            raise UserError(f"{source}: its preprocessing does not describe {input_size[0] if input_size else 0}-channel "
                            f"images (mean {mean}, std {std}, image_shape {input_size})")
        return cls(mean, std, input_size, classes, source)  # type: ignore[arg-type]

    def prepare(self, image: Any) -> torch.Tensor:
        """A (1, C, H, W) float input from a PIL image, or a uint8 array (H, W, C) or (H, W) as images are read: the
        short side resized to the input's and the centre cropped when the size differs, then normalised."""
        pixels = self._pixels(image)
        tensor = torch.from_numpy(np.array(pixels)).permute(2, 0, 1).float().div(255)  # a copy: PIL's array is read-only
        mean, std = torch.tensor(self.mean)[:, None, None], torch.tensor(self.std)[:, None, None]
        return ((tensor - mean) / std)[None]

    def _pixels(self, image: Any) -> np.ndarray:
        from PIL import Image

        channels, height, width = self.input_size
        if not isinstance(image, Image.Image):
            array = np.asarray(image)
            if array.dtype != np.uint8:
                raise UserError(f"prepare takes uint8 pixels 0..255 (or a PIL image), got {array.dtype}: "
                                "convert float images in [0, 1] with (x * 255).round().astype('uint8')")
            if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
                raise UserError(f"prepare takes an image (height, width, channels) or (height, width), got shape "
                                f"{array.shape}; a (channels, height, width) array goes through array.transpose(1, 2, 0)")
            image = Image.fromarray(array.squeeze(2) if array.ndim == 3 and array.shape[2] == 1 else array)
        pixels = np.asarray(image.convert("RGB" if channels == 3 else "L"), dtype=np.uint8)
        pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
        if pixels.shape[:2] == (height, width):
            return pixels
        if height != width:
            raise UserError(f"{self.source}: the network takes {height} x {width} images; prepare fits squares only")
        return fit_image(pixels, height)  # as `--image-size` fitted the training images

    def label(self, index: int) -> str:
        """The class name of output `index` (the index itself when the folder records no names)."""
        return self.classes[index] if 0 <= index < len(self.classes) else str(index)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN is no mean
        raise ValueError(value)
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(value)
    return value
