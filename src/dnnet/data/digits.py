"""The embedded default: 1,797 real 8x8 handwritten digits shipped inside the package, no download needed.

They are the test set of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, 1998;
licence CC BY 4.0) as scikit-learn ships them; `python bench/vendor_digits.py` wrote digits_8x8.npz from that copy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dnnet.data.splits import ImageDataset, hold_out

DIGITS_FILE = Path(__file__).with_name("digits_8x8.npz")
DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"  # of images then labels, as bytes
DIGITS_SIZE = 16  # upsampled from 8x8 so that a 3-stage ResNet still has 4x4 maps at the end
# the test split is drawn once with this seed, whatever the run's seed, so that seeds are compared on
# the same test images (0: the split that runs with seed 0 always had)
TEST_SPLIT_SEED = 0


def digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images (N, 8, 8) with 17 grey levels 0..16, and their labels 0..9; both uint8, checksum verified."""
    with np.load(DIGITS_FILE, allow_pickle=False) as stored:
        images, labels = stored["images"], stored["labels"]
    if hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest() != DIGITS_SHA256:
        raise RuntimeError(f"{DIGITS_FILE} is damaged (its checksum differs): reinstall dnnet")
    return images, labels


def read_digits(test_count: int = 360) -> dict[str, ImageDataset]:
    """Train and test splits of the 1,797 digits as 3x16x16 uint8; the test split is fixed."""
    images_8x8, labels = digits_8x8()
    pixels = torch.from_numpy(images_8x8).float()[:, None] * (255 / 16)  # 17 grey levels -> 0..255
    pixels = F.interpolate(pixels, size=DIGITS_SIZE, mode="bilinear", align_corners=False)
    images = pixels.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    everything = ImageDataset(images, torch.from_numpy(labels).long(), [str(d) for d in range(10)])
    train, test = hold_out(everything, test_count, TEST_SPLIT_SEED)
    return {"train": train, "test": test}
