"""The errors the command line reports without a traceback: a user's own input (one line, exit 2), a budget no
cell meets (exit 4), a run stopped by Ctrl-C or SIGTERM (exit 130) and a loss that diverged (exit 3).

Any other exception is a defect of dnnet and keeps its traceback. Both subclass the built-in error
a Python caller would expect (ValueError, FileNotFoundError), so `except ValueError` still catches them.
"""

from __future__ import annotations


class UserError(ValueError):
    """A setting, a file or a request that cannot be used as given; the message says what to change."""


class MissingFile(UserError, FileNotFoundError):
    """A file or run directory the user named does not exist, or lacks what the command needs."""


class NoCellFits(UserError):
    """No cell meets the budgets; the message says which resource rules them out (exit 4: a script can tell a
    budget it should relax from a mistake in the command)."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the run saved its position and stopped; `--resume` continues it."""


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the run stops and keeps its last good checkpoint."""
