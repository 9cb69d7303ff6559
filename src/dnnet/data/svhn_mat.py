"""SVHN cropped digits in the official .mat files (train_32x32.mat, test_32x32.mat); needs scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dnnet.data.splits import ImageDataset
from dnnet.errors import MissingFile, UserError

SVHN_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


def read_svhn(folder: Path) -> dict[str, ImageDataset]:
    """X is (32, 32, 3, N) uint8 and y is (N, 1) with label 10 standing for digit 0."""
    try:
        from scipy.io import loadmat
    except ImportError as error:  # optional extra
        raise UserError("reading SVHN needs scipy: pip install 'doubly-nested-networks[svhn]'") from error
    splits = {}
    for split, name in SVHN_FILES.items():
        path = folder / name
        if not path.is_file():
            raise MissingFile(f"{path} not found (SVHN needs {', '.join(SVHN_FILES.values())})")
        try:
            mat = loadmat(path)
        except Exception as error:  # scipy raises several types for a damaged file
            raise UserError(f"{path}: not a readable SVHN .mat file ({error})") from error
        images = np.ascontiguousarray(mat["X"].transpose(3, 2, 0, 1), dtype=np.uint8)
        labels = mat["y"].reshape(-1).astype(np.int64) % 10
        splits[split] = ImageDataset(torch.from_numpy(images), torch.from_numpy(labels), [str(d) for d in range(10)])
    return splits
