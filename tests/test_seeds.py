"""A seed beyond what torch's generators take (2**63 and up, or negative) is one line, and leaves no run folder."""

import pytest

from dnnet.cli.main import main

TOO_LARGE = str(2**63)


def exit_code(argv):
    try:
        return main(argv)
    except SystemExit as usage_error:  # refused while parsing
        return usage_error.code


@pytest.mark.parametrize("seed", [TOO_LARGE, "-1"])
def test_train_refuses_the_seed_before_making_its_folder(tmp_path, capsys, seed):
    assert exit_code(["train", "--seed", seed, "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    assert "seed must be a whole number from 0 to 2**63 - 1" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_a_toml_seed_is_checked_as_the_flag(tmp_path, capsys):
    (tmp_path / "run.toml").write_text(f"seed = {TOO_LARGE}\n")
    assert exit_code(["train", "--config", str(tmp_path / "run.toml"), "--out", str(tmp_path / "run")]) == 2
    assert "seed must be a whole number from 0 to 2**63 - 1" in capsys.readouterr().err and not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["anytime", "simulate"])
def test_serving_commands_refuse_the_seed_as_they_read_it(tmp_path, capsys, command):
    assert exit_code([command, str(tmp_path), "--seed", TOO_LARGE]) == 2
    assert "a seed is a whole number from 0 to 2**63 - 1" in capsys.readouterr().err
