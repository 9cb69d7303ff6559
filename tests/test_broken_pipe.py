"""A reader that stops reading (`dnnet ... | head -1`) ends the installed command quietly, as it ends other tools:
no traceback, the exit status of a program stopped by SIGPIPE."""

import subprocess
import sys
from pathlib import Path

import pytest

from dnnet.cli.main import BROKEN_PIPE_EXIT

DNNET = Path(sys.executable).parent / "dnnet"  # the installed script, as a user runs it


def closed_pipe(arguments: list[str]) -> tuple[int, str]:
    """The exit status and stderr of the installed command whose reader is gone before its first line."""
    process = subprocess.Popen([str(DNNET), *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    return process.wait(), stderr


@pytest.mark.parametrize("json", [[], ["--json"]], ids=["for people", "json"])
def test_a_closed_pipe_ends_the_command_quietly(json, tmp_path):
    assert closed_pipe(["profile", "--preset", "dnnet_resnet8_g4", "--out", str(tmp_path), *json]) == (BROKEN_PIPE_EXIT, "")


@pytest.mark.parametrize("arguments", [["--help"], ["profile", "--help"]], ids=" ".join)
def test_help_into_a_closed_pipe_is_quiet_too(arguments):
    assert closed_pipe(arguments) == (0, "")  # argparse drops a failed write of its help and exits 0


def test_an_open_pipe_gets_every_line_and_status_0(tmp_path):
    result = subprocess.run([str(DNNET), "profile", "--preset", "dnnet_resnet8_g4", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("dnnet_resnet8_g4: 16 cells") and result.stderr == ""
