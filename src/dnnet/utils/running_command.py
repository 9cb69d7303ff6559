"""The command that is running, as it could be typed again: recorded in every file a result is written to.

Kept apart from `provenance` (which imports torch) so that the command line can set it without importing torch.
"""

from __future__ import annotations

import contextvars
import shlex
import sys

# the dnnet command that is running, set by the command line for the duration of a command
RUNNING_COMMAND: contextvars.ContextVar[str | None] = contextvars.ContextVar("dnnet_running_command", default=None)


def command_line() -> str:
    """`dnnet ...` while a dnnet command runs, else the process's own arguments (`python bench/x.py ...` for a script)."""
    running = RUNNING_COMMAND.get()
    if running is not None:
        return running
    arguments = list(sys.argv) or ["python"]
    if arguments[0].endswith(".py"):
        arguments = ["python", *arguments]
    return shlex.join(arguments)
