"""Command-line values typed as people write them: a cell (`14x12`), counts (`24M`), sizes (`64KiB`), MAC budgets
(`24M` or `25%`), image sizes (`224`), anytime paths (`auto`, `1x1,1x2,2x2`); a misspelt one is a usage error that says how to write it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from dnnet.anytime.path_choice import parse_path
from dnnet.config import parse_cell
from dnnet.errors import UserError
from dnnet.utils.amounts import parse_count, parse_image_size, parse_macs_budget, parse_milliseconds, parse_seed, parse_size

Value = TypeVar("Value")


def argument_type(parse: Callable[[str], Value], name: str) -> Callable[[str], Value]:
    """`parse` as an argparse type: its UserError message becomes the usage error (argparse would print only the name)."""
    def convert(text: str) -> Value:
        try:
            return parse(text)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = name
    return convert


cell_argument = argument_type(parse_cell, "cell")
count_argument = argument_type(parse_count, "count")
size_argument = argument_type(parse_size, "size")
macs_budget_argument = argument_type(parse_macs_budget, "MAC budget")
path_argument = argument_type(parse_path, "path")
milliseconds_argument = argument_type(parse_milliseconds, "milliseconds")
seed_argument = argument_type(parse_seed, "seed")
image_size_argument = argument_type(parse_image_size, "image size")



class DeprecatedAlias(argparse.Action):
    """A flag with an old name that still works for a release: the old spelling (`deprecated`) says its new name on
    stderr, then stores the value as the new one does."""

    def __init__(self, *args, deprecated: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deprecated = deprecated

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if option_string == self.deprecated:
            new = next(name for name in self.option_strings if name != self.deprecated)
            print(f"dnnet: {self.deprecated} is now {new}; the old name goes in a later release", file=sys.stderr)
        setattr(namespace, self.dest, values)
