"""A run records its data's absolute path and fingerprint: eval finds it from any folder, and eval, --resume and
simulate refuse data that is not what the run was trained on, before anything is written."""

import json

import pytest
from data_files import png_bytes, write_image_tree
from test_training import TINY, interrupt

from dnnet.cli.main import main
from dnnet.data import load_data
from dnnet.errors import UserError
from dnnet.train import TrainConfig, train
from dnnet.train.run_data import load_run_data


@pytest.fixture
def folder_run(tmp_path, monkeypatch):
    """A run trained on an image folder given by a relative path."""
    write_image_tree(tmp_path / "work" / "tree", {"train": {"cat": 12, "dog": 12}, "test": {"cat": 3, "dog": 3}})
    monkeypatch.chdir(tmp_path / "work")
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", data="tree", epochs=1, batch_size=8, val_count=4, channels_last=False),
          tmp_path / "run", show_progress=False, cache_dir=tmp_path / "cache")
    return tmp_path


def test_the_run_records_an_absolute_source_and_a_fingerprint(folder_run):
    data = json.loads((folder_run / "run" / "config.json").read_text())["data"]
    assert data["source"] == str(folder_run / "work" / "tree") and len(data["fingerprint"]) == 64


def test_eval_from_another_folder_finds_the_data(folder_run, monkeypatch, capsys):
    monkeypatch.chdir(folder_run)  # "tree" does not resolve from here
    assert main(["eval", str(folder_run / "run"), "--cache-dir", str(folder_run / "cache")]) == 0
    assert "val accuracy of the full network" in capsys.readouterr().out


def test_eval_refuses_data_that_changed_and_keeps_the_grid(folder_run, capsys):
    grid = (folder_run / "run" / "accuracy_val.json").read_text()
    (folder_run / "work" / "tree" / "train" / "cat" / "0000.png").write_bytes(png_bytes(99))
    assert main(["eval", str(folder_run / "run"), "--cache-dir", str(folder_run / "cache")]) == 2
    assert "is not what this run was trained on" in capsys.readouterr().err
    assert (folder_run / "run" / "accuracy_val.json").read_text() == grid


def test_resume_refuses_other_data(tmp_path, digits, monkeypatch):
    interrupt(tmp_path / "run", digits, monkeypatch, stop_after_steps=7)
    other = load_data("digits", seed=1)  # another validation split: other training images
    with pytest.raises(UserError, match="is not what this run was trained on"):
        train(TrainConfig.from_flat(**TINY), tmp_path / "run", resume=True, show_progress=False, data=other)
    train(TrainConfig.from_flat(**TINY), tmp_path / "run", resume=True, show_progress=False, data=digits)  # its own: fine


def test_runs_recorded_before_fingerprints_are_not_checked(folder_run):
    record = json.loads((folder_run / "run" / "config.json").read_text())
    del record["data"]["fingerprint"]
    (folder_run / "work" / "tree" / "train" / "cat" / "0000.png").write_bytes(png_bytes(99))
    config = TrainConfig.from_dict(record["train_config"])
    assert len(load_run_data(config, record, cache_dir=folder_run / "cache").train) == 20
