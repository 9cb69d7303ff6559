"""`TrainConfig` in typed parts: every committed run's config.json still reads through the one converter, and the
command line's flags are generated from the parts' fields."""

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from dnnet.errors import UserError
from dnnet.runs.objective_settings import JointObjective, SandwichObjective
from dnnet.runs.runtime_settings import RuntimeSettings
from dnnet.runs.train_config import BEFORE_THE_SETTING_EXISTED, PARTS, TrainConfig, flat_settings

ROOT = Path(__file__).resolve().parents[1]


def committed_run_configs() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "docs/**/config.json", "src/**/config.json"], cwd=ROOT, capture_output=True,
                            text=True).stdout.split()
    return [ROOT / name for name in listed if "train_config" in json.loads((ROOT / name).read_text())]


def test_there_are_committed_runs_of_both_objectives_and_of_before_the_objective_existed():
    saved = [json.loads(path.read_text())["train_config"] for path in committed_run_configs()]
    assert len(saved) >= 40
    assert {"joint", "sandwich", None} <= {record.get("objective") for record in saved}


@pytest.mark.parametrize("path", committed_run_configs(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_committed_run_reads_and_keeps_every_setting_that_applies(path):
    saved = json.loads(path.read_text())["train_config"]
    config = TrainConfig.from_dict(saved)
    flat = config.to_dict()
    dropped = set(saved) - set(flat)
    assert dropped <= {f.name for f in dataclasses.fields(JointObjective)} and (not dropped or flat["objective"] == "sandwich")
    for name, value in {**BEFORE_THE_SETTING_EXISTED, **saved}.items():
        if name in flat:
            assert flat[name] == value, name
    assert TrainConfig.from_dict(flat) == config  # what a run writes today reads back the same


def test_the_parts_and_the_flat_names_cover_each_other_once():
    part_fields = [f.name for part in (*PARTS.values(), JointObjective) for f in dataclasses.fields(part)]
    top = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in PARTS and f.name != "objective"]
    assert sorted(part_fields + top + ["objective"]) == sorted(flat_settings())
    assert len(set(part_fields + top)) == len(part_fields + top)  # no flat name in two parts


def test_parts_are_frozen_and_replaced_by_flat_name():
    config = TrainConfig.from_flat(epochs=3, exit_ramp=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.optimiser.epochs = 4
    changed = config.replaced(epochs=4, label_smoothing=0.1)
    assert (changed.optimiser.epochs, changed.targets.label_smoothing, changed.objective.exit_ramp) == (4, 0.1, 0.5)
    assert config.optimiser.epochs == 3


def test_an_unknown_flat_name_suggests_the_nearest():
    with pytest.raises(UserError, match="unknown TrainConfig keys \\['epoch'\\] \\(did you mean: 'epoch' -> 'epochs'\\?\\)"):
        TrainConfig.from_flat(epoch=3)
    with pytest.raises(UserError, match="objective must be one of \\('joint', 'sandwich'\\), got 'slim'"):
        TrainConfig.from_flat(objective="slim")


def test_compile_is_a_joint_objective_runtime_setting():
    with pytest.raises(UserError, match="compile applies to the joint objective"):
        TrainConfig.from_flat(objective="sandwich", compile=True)
    assert TrainConfig.from_flat(objective="sandwich").objective == SandwichObjective()


def test_every_setting_has_a_flag_with_its_fields_help():
    import argparse

    from dnnet.cli.main import build_parser

    command = next(a for a in build_parser("train")._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    flags = {action.dest: action for action in command._actions}
    for name, field in flat_settings().items():
        assert name in flags, name
        if field is not None and name not in ("preset", "data", "data_dir"):
            assert flags[name].help.startswith(field.metadata["help"]), name
    runtime = {f.name for f in dataclasses.fields(RuntimeSettings)}
    assert runtime == {"tensorboard", "compile", "compile_mode"}  # what a resume takes from its caller


def test_the_command_line_takes_a_recipe_with_the_sandwich_rule(tmp_path, capsys):
    from dnnet.cli.main import main

    argv = ["train", "--recipe", "paper", "--objective", "sandwich", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]
    assert main(argv) == 2  # past the settings, stopped by the missing data
    err = capsys.readouterr().err
    assert "apply to the joint objective" not in err and "nowhere" in err


def test_a_sandwich_run_resumes_with_the_default_recipe_named(tmp_path, digits, capsys):
    from dnnet.cli.main import main
    from dnnet.train import train

    run = tmp_path / "run"
    train(TrainConfig.from_flat(preset="resnet20", groups=2, objective="sandwich", epochs=1, batch_size=256), run,
          show_progress=False, data=digits)
    assert main(["train", "--resume", "--out", str(run), "--recipe", "default", "--quiet"]) == 0
    assert main(["train", "--resume", "--out", str(run), "--exit-ramp", "0.5", "--quiet"]) == 2
    assert "holds a run with exit_ramp=0.0 (the sandwich objective has no exit_ramp)" in capsys.readouterr().err
