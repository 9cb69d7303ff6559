"""Which test image each simulated request gets.

Test sets are often stored class by class (the CIFAR-10 archive here is: its first 1,000 test images
are all airplanes), so request i cannot simply take image i. Requests take the images in a seeded
random order, starting over when there are more requests than images.
"""

from __future__ import annotations

import torch

from dnnet.errors import UserError


def request_images(requests: int, images: int, seed: int = 0) -> torch.Tensor:
    """Image index of each of `requests` requests: a permutation of range(images) drawn with `seed`, repeated."""
    if images < 1:
        raise UserError("no images to answer requests with")
    if requests < 0:
        raise UserError(f"requests must be at least 0, got {requests}")
    order = torch.randperm(images, generator=torch.Generator().manual_seed(seed))
    return order.repeat((requests + images - 1) // images)[:requests]
