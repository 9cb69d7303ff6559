"""An independent measure of activation memory: bytes of tensor storage alive during a pass.

A TorchDispatchMode sees every tensor an operator returns; a storage counts from the first
output that holds it until the last Python tensor on it is collected. Only floating-point tensors count: the integer
indices that PyTorch's CPU max pool writes beside its output are its own bookkeeping, not an activation (an inference
runtime's max pool writes none).
"""

from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class LiveTensorPeak(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.live_bytes = 0
        self.peak_bytes = 0
        self._holders: dict[int, int] = {}  # storage data_ptr -> tensors holding it

    def hold(self, tensor: torch.Tensor) -> None:
        """Counts `tensor`'s storage as alive until `tensor` (and every other holder) is gone."""
        key = tensor.untyped_storage().data_ptr()
        if key not in self._holders:
            self._holders[key] = 0
            self.live_bytes += tensor.untyped_storage().nbytes()
            self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        self._holders[key] += 1
        weakref.finalize(tensor, self._release, key, tensor.untyped_storage().nbytes())

    def _release(self, key: int, nbytes: int) -> None:
        self._holders[key] -= 1
        if self._holders[key] == 0:
            del self._holders[key]
            self.live_bytes -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {id(t) for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        for tensor in tree_flatten(out)[0]:
            if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and id(tensor) not in inputs:  # in-place ops return an input
                self.hold(tensor)
        return out


@torch.no_grad()
def measure_peak_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    tracker = LiveTensorPeak()
    with tracker:
        tracker.hold(x)
        model(x)
    return tracker.peak_bytes
