"""The embedded digits ship inside the package, checked by their checksum, and equal scikit-learn's copy."""

import shutil

import numpy as np
import pytest

import dnnet.data.digits as digits


def test_the_shipped_digits_are_the_1797_images_with_their_labels():
    images, labels = digits.digits_8x8()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_a_damaged_digits_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "digits_8x8.npz"
    shutil.copy(digits.DIGITS_FILE, copy)
    with np.load(copy) as stored:
        images, labels = stored["images"].copy(), stored["labels"]
    images[0, 0, 0] += 1
    np.savez_compressed(copy, images=images, labels=labels)
    monkeypatch.setattr(digits, "DIGITS_FILE", copy)
    with pytest.raises(RuntimeError, match="is damaged"):
        digits.read_digits()


def test_they_equal_scikit_learns_copy():
    datasets = pytest.importorskip("sklearn.datasets")  # not a dependency; checked where it is installed
    reference = datasets.load_digits()
    images, labels = digits.digits_8x8()
    assert np.array_equal(images, reference.images) and np.array_equal(labels, reference.target)
