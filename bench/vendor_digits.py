"""Writes the 1,797 8x8 handwritten digits that dnnet embeds (src/dnnet/data/digits_8x8.npz) from scikit-learn's copy.

    pip install scikit-learn && python bench/vendor_digits.py

The digits are the test set of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak,
1998; licence CC BY 4.0), as scikit-learn ships them: 17 grey levels (0-16) and a label 0-9 per image. Stored as
uint8, compressed; `dnnet.data.digits.DIGITS_SHA256` is the checksum of the arrays this script writes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "src" / "dnnet" / "data" / "digits_8x8.npz"


def main() -> None:
    digits = load_digits()
    images, labels = digits.images.astype(np.uint8), digits.target.astype(np.uint8)
    assert np.array_equal(images, digits.images) and np.array_equal(labels, digits.target)  # nothing rounded away
    np.savez_compressed(OUT, images=images, labels=labels)
    print(OUT, OUT.stat().st_size, "bytes; sha256 of the arrays:", hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest())


if __name__ == "__main__":
    main()
