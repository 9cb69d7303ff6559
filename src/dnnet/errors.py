"""The errors a user's own input causes: the command line prints their message on one line and exits 2.

Any other exception is a defect of dnnet and keeps its traceback. Both subclass the built-in error
a Python caller would expect (ValueError, FileNotFoundError), so `except ValueError` still catches them.
"""

from __future__ import annotations


class UserError(ValueError):
    """A setting, a file or a request that cannot be used as given; the message says what to change."""


class MissingFile(UserError, FileNotFoundError):
    """A file or run directory the user named does not exist, or lacks what the command needs."""
