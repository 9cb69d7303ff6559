"""Progress of an epoch: a tqdm bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time

LINE_EVERY_S = 10.0  # without a terminal, a line at most this often within an epoch (the epoch's summary follows)


class EpochProgress:
    """Speed and time left are measured from `first_step`, where this process started (or resumed) the epoch."""

    def __init__(self, epoch: int, epochs: int, steps: int, first_step: int = 0, enabled: bool = True) -> None:
        self.epoch, self.epochs, self.steps, self.first_step = epoch, epochs, steps, first_step
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last_step = first_step
        self.bar = None
        self.last_line = self.start
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=steps, initial=first_step, desc=f"epoch {epoch}/{epochs}", leave=False, dynamic_ncols=True)

    def update(self, step: int, loss: float, accuracy: float, images: int) -> None:
        """After `step` steps (1-based), `images` of them (over all processes) trained since `first_step`."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        rate = images / max(elapsed, 1e-9)
        left = elapsed / (step - self.first_step) * (self.steps - step)
        fields = f"loss {loss:.3f} acc {accuracy:.3f} {rate:.0f} img/s {left:.0f}s left in epoch"
        if self.bar is not None:
            self.bar.set_postfix_str(fields, refresh=False)
            self.bar.update(step - self.last_step)
        elif time.perf_counter() - self.last_line >= LINE_EVERY_S and step < self.steps:
            print(f"epoch {self.epoch}/{self.epochs} step {step}/{self.steps}: {fields}", flush=True)
            self.last_line = time.perf_counter()
        self.last_step = step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
