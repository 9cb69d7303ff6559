"""One writer per run directory: a second `dnnet train` into the same --out, or a command that writes its results into
a run that is training (eval, latency, anytime, simulate, report), is refused, naming the first.

The lock is an flock on RUN/lock held for the whole run: the kernel releases it when the process ends in any way
(SIGKILL, power loss aside), so a lock left by a dead process is taken over without asking.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dnnet.errors import UserError

LOCK_FILE = "lock"


@contextmanager
def run_lock(run_dir: Path, advice: str = "") -> Iterator[None]:
    """Holds RUN/lock while the body runs; UserError at once when another live process holds it (`advice` ends its
    message). Under torchrun only rank 0 takes it (every rank of one run writes to the same directory)."""
    if int(os.environ.get("RANK", "0")) != 0:
        yield
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--out {run_dir} is a file, not a folder for a run")
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise UserError(f"{run_dir} is being written by another dnnet process (pid {holder}); wait for it to end"
                        f"{advice}") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # before the unlock, so that the next writer creates a fresh file
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
