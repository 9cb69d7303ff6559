"""Shell completion (the optional extra `completion`): the shell asks `dnnet` for the words that complete a line."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("argcomplete")


def completions(line, tmp_path):
    answer = tmp_path / "completions.txt"
    env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "_ARGCOMPLETE_STDOUT_FILENAME": str(answer)}
    done = subprocess.run([sys.executable, "-m", "dnnet"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return sorted(answer.read_text().split("\v"))


@pytest.mark.parametrize("line,expected", [  # each asks a new process (seconds): a command, a flag, a choice
    ("dnnet s", ["select", "simulate"]),
    ("dnnet train --auxiliary-g", ["--auxiliary-gradient"]),
    ("dnnet export run --format o", ["onnx"]),
])
def test_commands_flags_and_choices_complete(line, expected, tmp_path):
    assert [word.strip() for word in completions(line, tmp_path)] == expected
