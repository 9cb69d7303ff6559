"""A data set's fingerprint: a hash of every split's pixels and labels, so that a run can tell its own data again."""

from __future__ import annotations

import hashlib

from dnnet.data.splits import DataSplits


def data_fingerprint(data: DataSplits) -> str:
    """sha256 over the train, val and test images and labels, in that order (about a second for CIFAR-10)."""
    digest = hashlib.sha256()
    for name in ("train", "val", "test"):
        split = data.split(name)
        digest.update(f"{name}:{tuple(split.images.shape)}".encode())
        digest.update(split.images.contiguous().numpy().tobytes())
        digest.update(split.labels.contiguous().numpy().tobytes())
    return digest.hexdigest()
