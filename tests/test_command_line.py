"""`python -m dnnet` is the dnnet command, and `dnnet --version` names dnnet's and torch's versions."""

import subprocess
import sys

from dnnet.utils.version import dnnet_version, torch_version


def test_python_m_dnnet_and_version():
    result = subprocess.run([sys.executable, "-m", "dnnet", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"dnnet {dnnet_version()} (torch {torch_version()})"
    assert dnnet_version() != "unknown"  # installed, as make install does


def test_every_flag_of_every_command_says_what_it_does():
    import argparse

    from dnnet.cli.main import COMMANDS, build_parser

    for name in COMMANDS:
        parser = build_parser(name)
        command = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        for action in command._actions:
            if action.dest != "help":
                assert action.help and not action.help.startswith("default "), (name, action.dest)
        command.format_help()  # every help string formats (a stray % would not)


def test_every_command_shows_an_example_that_its_own_parser_accepts():
    import argparse
    import shlex

    from dnnet.cli.main import COMMANDS, EXAMPLES, build_parser

    assert set(EXAMPLES) == set(COMMANDS)
    for name in COMMANDS:
        parser = build_parser(name)
        command = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        assert f"example: {EXAMPLES[name]}" in command.format_help()
        argv = shlex.split(EXAMPLES[name])[1:]
        assert parser.parse_args(argv).command == name  # the example is spelt as the command takes it


def test_train_and_eval_help_describe_the_averaging_smoothing_teacher_and_tta_flags():
    import argparse

    from dnnet.cli.main import build_parser

    def help_of(name):
        command = next(a for a in build_parser(name)._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        return " ".join(command.format_help().split())  # argparse wraps at the terminal's width

    train_help, eval_help = help_of("train"), help_of("eval")
    for expected in ("--ema DECAY an exponential moving average of the weights", "batch norm's running statistics are averaged too",
                     "--label-smoothing EPS every cell's cross-entropy", "--teacher RUN_OR_PRETRAINED a finished run directory",
                     "--teacher-weight W with --teacher, each cell's loss is (1 - W) x its own + W x T^2 KL(teacher || cell)",
                     "--teacher-temperature T with --teacher, the temperature T"):
        assert expected in train_help, expected
    assert "--tta {none,flip} test-time augmentation: flip averages every cell's logits" in eval_help
