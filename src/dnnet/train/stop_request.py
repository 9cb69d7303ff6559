"""Ctrl-C or SIGTERM during training: the first one asks the run to save its exact position and stop; a second one aborts.

Batch schedulers (Slurm, Kubernetes) send SIGTERM some seconds before they kill a job: it is treated as Ctrl-C.
"""

from __future__ import annotations

import signal

import torch

from dnnet.train.distributed import World, any_rank
from dnnet.train.epoch_loop import SYNC_EVERY_STEPS

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Turns the first Ctrl-C or SIGTERM into a request to stop before the next step; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        self._previous = {signum: signal.signal(signum, self._handle) for signum in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def stop_requested(stop: StopRequest, world: World, device: torch.device, step: int) -> bool:
    """Whether to stop before `step`. Alone, a process reads its own flag every step, at no cost. Distributed,
    every process must stop at the same step, which takes an all-reduce (a sync point): it is done every
    SYNC_EVERY_STEPS steps of the epoch, so a Ctrl-C takes effect within that many steps."""
    if not world.distributed:
        return stop.requested
    return step % SYNC_EVERY_STEPS == 0 and any_rank(stop.requested, world, device)
