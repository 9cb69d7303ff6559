"""The command line turns the user's mistakes into one line and exit 2, and lets its own defects show."""

import pytest

from dnnet.cli import main as cli
from dnnet.cli import profile_command
from dnnet.errors import MissingFile, UserError


def test_a_user_error_is_one_line_and_exit_2(capsys):
    assert cli.main(["profile", "--preset", "resnet33"]) == 2
    err = capsys.readouterr().err
    assert err == "dnnet profile: error: unknown preset 'resnet33'; known presets: " + err.split("known presets: ")[1]
    assert len(err.strip().splitlines()) == 1


def test_a_missing_run_directory_is_a_user_error(tmp_path, capsys):
    assert cli.main(["select", str(tmp_path / "nowhere"), "--macs", "1e6"]) == 2
    assert "is not a run directory (config.json not found)" in capsys.readouterr().err


@pytest.mark.parametrize("defect", [ValueError("an internal check failed"), KeyError("x"), FileNotFoundError("internal")])
def test_a_defect_keeps_its_traceback(monkeypatch, defect):
    def broken(args):
        raise defect

    monkeypatch.setattr(profile_command, "run", broken)
    with pytest.raises(type(defect)):
        cli.main(["profile", "--preset", "dnnet_resnet8_g4"])


def test_user_errors_are_still_the_builtin_errors_for_python_callers():
    assert issubclass(UserError, ValueError) and issubclass(MissingFile, FileNotFoundError)
