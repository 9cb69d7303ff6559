"""A cell on the command line: `--cell 14x12` (the paper's D14&W12 is read too, quoted)."""

from __future__ import annotations

import argparse

from dnnet.config import parse_cell
from dnnet.errors import UserError


def cell_argument(text: str) -> tuple[int, int]:
    """argparse type: (depth, width); a misspelt cell is a usage error naming the spelling."""
    try:
        return parse_cell(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
