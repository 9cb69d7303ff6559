"""One image file's bytes to an 8-bit RGB array, or the reason it cannot be one."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

# what PIL calls 16- and 32-bit integer grey images: `convert("RGB")` would clip them at 255, not scale them
WIDE_GREY_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
MAX_IMAGE_PIXELS = 4096 * 4096  # checked in the header before decoding: a small file can declare a huge image


class UnreadableImage(ValueError):
    """An image file that cannot be decoded; the message is the reason, in a few words."""


def decode_image(blob: bytes) -> np.ndarray:
    """(H, W, 3) uint8; 16-bit images are scaled to 8 bits (65535 -> 255), not clipped. Raises UnreadableImage for
    an empty, truncated or foreign file, and for one that declares more than MAX_IMAGE_PIXELS pixels."""
    if not blob:
        raise UnreadableImage("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(blob)) as image:
                width, height = image.size  # from the header: nothing is decoded yet
                if width * height > MAX_IMAGE_PIXELS:
                    raise UnreadableImage(f"{width}x{height} pixels, more than the {MAX_IMAGE_PIXELS:,} an image may have")
                image.load()  # decode it all now: a truncated file fails here, not later as garbage
                if image.mode in WIDE_GREY_MODES:
                    return _grey_to_rgb(np.asarray(image))
                return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnreadableImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImage(f"too many pixels ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:  # PIL's errors for unknown, truncated and broken files
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableImage(reason) from None


def _grey_to_rgb(values: np.ndarray) -> np.ndarray:
    """A 16-bit grey image (32-bit in PIL's "I" mode, holding 16-bit values) as 8-bit RGB."""
    scaled = np.clip(np.rint(values.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    return np.repeat(scaled[:, :, None], 3, axis=2)


def decode_images(named_blobs: list[tuple[str, bytes]]) -> tuple[list[np.ndarray | None], list[tuple[str, str]]]:
    """Each (name, bytes) decoded, in order (None where it failed), and the (name, reason) of every failure."""
    arrays, failures = [], []
    for name, blob in named_blobs:
        try:
            arrays.append(decode_image(blob))
        except UnreadableImage as error:
            arrays.append(None)
            failures.append((name, str(error)))
    return arrays, failures
