# PYTHON_ARGCOMPLETE_OK  (shell completion, with the optional extra: eval "$(register-python-argcomplete dnnet)")
"""The `dnnet` command: one subcommand per file in this folder, `<name>_command.py`, with `add_arguments` and `run`."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import shlex
import sys
from types import ModuleType

from dnnet.cli.compute_arguments import add_compute_arguments, compute_settings
from dnnet.cli.json_output import JsonErrorParser, print_json_error, wants_json
from dnnet.errors import Interrupted, NoCellFits, NonFiniteLoss, UserError
from dnnet.utils.running_command import RUNNING_COMMAND
from dnnet.utils.version import dnnet_version, torch_version

# name -> one line of help. A command's module (and what it imports: data readers, matplotlib, onnx...) is
# imported only when that command runs, so `dnnet --help` and every other command stay quick to start.
COMMANDS = {
    "demo": "the whole pipeline on the embedded data set (or --data)",
    "train": "train a preset; every cell of the grid at once",
    "eval": "accuracy of every cell of a trained run",
    "profile": "resources of every (depth, width) cell of a preset",
    "report": "report.html of a trained run (heatmaps, Pareto front, curves) or of an experiment root",
    "select": "best cell of a run within budgets of MACs, parameters, memory, latency",
    "latency": "measured latency of every cell on this machine",
    "export": "one cell of a run as a standalone file",
    "bundle": "a run's Pareto cells as ONNX files, a manifest and a selector that needs only onnxruntime and numpy",
    "pretrained": "a trained run (or one cell) as a folder to share: config.json + model.safetensors",
    "experiment": "reproduce the paper's figures and baselines (fig3, fig4, fig5, lambda)",
    "simulate": "replay a trace of per-request budgets (MACs, memory)",
    "anytime": "serve test images one at a time along the default path, with early stop",
    "budgeted": "budgeted batch classification: test images share an average MAC budget, each stopping when confident",
}


# name -> an example command line, shown under the command's --help
EXAMPLES = {
    "demo": "dnnet demo --out runs/demo",
    "train": "dnnet train --preset dnnet_resnet20_g8 --data cifar10 --download --epochs 30 --schedule cosine --out runs/r20",
    "eval": "dnnet eval runs/r20 --split test --json",
    "profile": "dnnet profile --preset dnnet_resnet32_g22 --macs 24M --cells 14x12",
    "report": "dnnet report runs/r20 --macs 25%",
    "select": "dnnet select runs/r20 --macs 2M --memory 64KiB",
    "latency": "dnnet latency runs/r20 --runtime onnxruntime --batch 1 --threads 1",
    "export": "dnnet export runs/r20 --cell 10x4 --format onnx --out cell.onnx",
    "bundle": "dnnet bundle runs/r20 --out bundle/",
    "pretrained": "dnnet pretrained runs/r20 --out weights/",
    "experiment": "dnnet experiment fig4 --protocol cpu --download --jobs 2",
    "simulate": "dnnet simulate runs/r20 --trace contention --baseline runs/anytime",
    "anytime": "dnnet anytime runs/r20 --images 1000 --deadline-ms 0.5",
    "budgeted": "dnnet budgeted runs/r20 --baseline runs/anytime --serve 300",
}


def command_module(name: str) -> ModuleType:
    """The module of subcommand `name`: dnnet.cli.<name>_command."""
    return importlib.import_module(f"dnnet.cli.{name}_command")


def build_parser(command: str | None = None, json_errors: bool = False) -> argparse.ArgumentParser:
    """The `dnnet` parser, with the arguments of `command` only (the others are listed by name and help); with
    `json_errors`, its usage errors come out as JSON."""
    parser = JsonErrorParser(prog="dnnet", json_errors=json_errors,
                             description="Doubly nested networks: one trained CNN cut along its depth and width into every "
                             "sub-network a budget allows. Train, evaluate, profile, select, export, bundle and serve them; "
                             "reproduce the paper's experiments.",
                             epilog="`dnnet COMMAND --help` shows a command's flags and an example.")
    parser.add_argument("--version", action="version", version=f"dnnet {dnnet_version()} (torch {torch_version()})")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=summary, description=summary, epilog=f"example: {EXAMPLES[name]}",
                                          formatter_class=argparse.RawDescriptionHelpFormatter)  # the example unwrapped
        if name == command:
            command_module(name).add_arguments(subparser)
            add_compute_arguments(subparser, name)
    return parser


# errors of the file system that name a path: one line each, like the user's own mistakes
FILESYSTEM_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
                     errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG}


# what a shell reports for a program killed by SIGPIPE (128 + 13), as `yes | head -1` leaves `yes`
BROKEN_PIPE_EXIT = 141


def main(argv: list[str] | None = None) -> int:
    """Runs one command; a reader that stops reading (`dnnet ... | head -1`) ends it quietly, as it ends other tools."""
    argv = sys.argv[1:] if argv is None else list(argv)
    token = RUNNING_COMMAND.set(shlex.join(["dnnet", *argv]))  # what every file this command writes records
    try:
        try:
            return run_command(argv)
        finally:  # the last buffered lines (of --help too, which exits) may be what meets the closed pipe
            RUNNING_COMMAND.reset(token)
            sys.stdout.flush()
    except BrokenPipeError:
        # later writes (the interpreter flushes stdout at exit) go nowhere instead of raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT


def run_command(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions of a partial command line
        complete_command_line()
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(command if command in COMMANDS else None, wants_json(argv)).parse_args(argv)
    try:
        with compute_settings(args):
            return command_module(args.command).run(args)
    except Interrupted as stop:  # Ctrl-C: the run saved where it was
        return _failed(args, f"interrupted: {stop}", 130)
    except NonFiniteLoss as error:
        return _failed(args, f"error: {error}", 3)
    except NoCellFits as error:  # the command was right; the budget is too tight
        return _failed(args, f"error: {error}", 4)
    except UserError as error:  # the user's input: one line, no traceback; anything else is a defect and keeps it
        return _failed(args, f"error: {error}", 2)
    except OSError as error:  # the machine's: a disk full, a read-only or missing folder, a file where a folder goes
        if error.filename is None or error.errno not in FILESYSTEM_ERRORS:
            raise
        return _failed(args, f"error: {error.filename}: {error.strerror}", 2)


def complete_command_line() -> None:
    """Prints the completions the shell asked for and exits (argcomplete's protocol); nothing without the extra."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(build_parser(completed_command(os.environ.get("COMP_LINE", ""),
                                                            os.environ.get("COMP_POINT"))))


def completed_command(line: str, point: str | None) -> str | None:
    """The subcommand named before the word being completed, if any: only its module is imported (each imports
    torch, seconds per TAB press), none while the command word itself is completed."""
    before_cursor = line[: int(point)] if point and point.isdigit() else line
    words = before_cursor.split()
    if before_cursor[-1:].isspace():
        words.append("")  # the cursor starts a new word
    finished = words[1:-1]  # past the program's name, before the word under the cursor
    command = next((word for word in finished if not word.startswith("-")), None)
    return command if command in COMMANDS else None


def _failed(args: argparse.Namespace, line: str, exit_code: int) -> int:
    """One line on stderr for people; with --json the same message as JSON on stdout."""
    print(f"dnnet {args.command}: {line}", file=sys.stderr)
    if getattr(args, "json", False):
        print_json_error(args.command, line.split(": ", 1)[1], exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
