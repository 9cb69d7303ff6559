"""`--json`: a command's result as one JSON object on stdout instead of its lines for people, and its errors too, so
that a script reads every outcome the same way: {"error": ..., "exit_code": N} when the command failed."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the result as one JSON object on stdout (an error as {\"error\": ..., \"exit_code\": N})")


def wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def print_result(args: argparse.Namespace, result: dict[str, Any], for_people: Callable[[], None]) -> None:
    """The result as JSON with --json, else what `for_people` prints."""
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        for_people()


def say(args: argparse.Namespace, text: str) -> None:
    """A progress line for people: on stdout, or on stderr with --json (stdout then holds the one JSON object)."""
    print(text, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)


def print_json_error(command: str | None, message: str, exit_code: int) -> None:
    print(json.dumps({"command": command, "error": message, "exit_code": exit_code}))


class JsonErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors come out as JSON too when `json_errors` (the command line asks for
    --json); its subcommands' parsers are made alike."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        kwargs.setdefault("parser_class", functools.partial(JsonErrorParser, json_errors=self.json_errors))
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> None:  # argparse's hook for usage errors; it must not return
        if self.json_errors:
            print_json_error(self.prog.removeprefix("dnnet").strip() or None, message, 2)
            sys.exit(2)
        super().error(message)
