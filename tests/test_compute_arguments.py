"""`--device` and `--threads` on every command that runs a network, with one meaning; the old `--seeds` still works."""

import argparse

import pytest
import torch

from dnnet.cli.compute_arguments import ANY_DEVICE, CPU_ONLY, TIMING, compute_settings
from dnnet.cli.main import COMMANDS, build_parser, main
from dnnet.errors import UserError


def parsed(argv: list[str]) -> argparse.Namespace:
    return build_parser(argv[0]).parse_args(argv)


def command_parser(name: str) -> argparse.ArgumentParser:
    parser = build_parser(name)
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]


def minimal_argv(name: str, folder) -> list[str]:
    """A command line `name` parses, naming files under `folder` that do not exist."""
    run = str(folder / "run")
    return {"demo": ["demo"], "train": ["train", "--out", run], "experiment": ["experiment", "fig3"],
            "export": ["export", run, "--cell", "1x1", "--format", "onnx", "--out", str(folder / "c.onnx")],
            "bundle": ["bundle", run, "--out", str(folder / "b")],
            "simulate": ["simulate", run, "--trace", "steady"]}.get(name, [name, run])


# the commands that only read files or count: no network runs, no flags to choose where
FILES_ONLY = {"profile", "report", "select", "pretrained"}


def test_every_command_is_either_computing_or_files_only():
    assert ANY_DEVICE | CPU_ONLY | FILES_ONLY == set(COMMANDS) and not (ANY_DEVICE | CPU_ONLY) & FILES_ONLY


@pytest.mark.parametrize("name", sorted(ANY_DEVICE | CPU_ONLY))
def test_computing_commands_take_device_and_threads(name):
    flags = {option for action in command_parser(name)._actions for option in action.option_strings}
    assert {"--device", "--threads"} <= flags


@pytest.mark.parametrize("name", sorted(FILES_ONLY))
def test_commands_that_read_files_take_neither(name):
    flags = {option for action in command_parser(name)._actions for option in action.option_strings}
    assert not {"--device", "--threads"} & flags


@pytest.mark.parametrize("name", sorted(ANY_DEVICE | CPU_ONLY))
def test_defaults_one_thread_for_timings_and_the_cpu_where_only_the_cpu_is_measured(tmp_path, name):
    args = parsed(minimal_argv(name, tmp_path))
    assert args.threads == (1 if name in TIMING else None)
    assert args.device == ("cpu" if name in CPU_ONLY else None)


@pytest.mark.parametrize("name", sorted(CPU_ONLY))
def test_a_cpu_command_refuses_another_device_in_one_line_before_reading(tmp_path, capsys, name):
    assert main([*minimal_argv(name, tmp_path), "--device", "cuda"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"dnnet {name}: error: dnnet {name} runs on the CPU (what it measures or writes is the CPU's); --device cuda is "
        "not supported here"]
    assert list(tmp_path.iterdir()) == []


def test_threads_hold_for_the_command_and_are_restored_after():
    before = torch.get_num_threads()
    with compute_settings(argparse.Namespace(command="eval", device=None, threads=1)):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with compute_settings(argparse.Namespace(command="eval", device=None, threads=None)):
        assert torch.get_num_threads() == before  # not given: torch's own


@pytest.mark.parametrize("name", ["eval", "train", "simulate"])
def test_threads_out_of_range_is_one_line_for_every_command(tmp_path, capsys, name):
    assert main([*minimal_argv(name, tmp_path), "--threads", "0"]) == 2
    assert "error: --threads must be between 1 and this machine's" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_experiment_takes_seed_and_the_old_seeds_with_a_warning(capsys):
    assert parsed(["experiment", "fig3", "--seed", "0", "1"]).seed == [0, 1]
    assert capsys.readouterr().err == ""
    assert parsed(["experiment", "fig3", "--seeds", "2"]).seed == [2]
    assert capsys.readouterr().err == "dnnet: --seeds is now --seed; the old name goes in a later release\n"


def test_a_timing_command_keeps_torch_threads_for_its_preparation_and_checks_them_first():
    before = torch.get_num_threads()
    with compute_settings(argparse.Namespace(command="anytime", device="cpu", threads=1)):
        assert torch.get_num_threads() == before  # the command applies --threads to what it times only
    with pytest.raises(UserError, match="--threads must be between 1"):
        with compute_settings(argparse.Namespace(command="budgeted", device="cpu", threads=0)):
            pass
