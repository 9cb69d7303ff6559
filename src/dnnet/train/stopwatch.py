"""Time spent in one part of a training step, measured without making the host wait for the device at every step."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import torch

Result = TypeVar("Result")


class DeviceStopwatch:
    """Seconds spent in the calls given to `time`: by the host's clock on a CPU; on a GPU by CUDA events recorded
    around each call (its kernels run after the call returns), read only when `seconds()` is asked."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.pending: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []  # recorded on the GPU, not read yet
        self.total = 0.0

    def time(self, call: Callable[..., Result], *args) -> Result:
        """`call(*args)`, its time added to the total."""
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            result = call(*args)
            end.record()
            self.pending.append((start, end))
            return result
        started = time.perf_counter()
        result = call(*args)
        self.total += time.perf_counter() - started
        return result

    def seconds(self) -> float:
        """Seconds in every timed call so far; on a GPU, waits for the last one to finish (a sync point)."""
        for start, end in self.pending:
            end.synchronize()
            self.total += start.elapsed_time(end) / 1000  # milliseconds
        self.pending.clear()
        return self.total
