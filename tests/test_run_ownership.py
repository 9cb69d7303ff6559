"""A run directory holds one run: a new run refuses someone else's files, starts a killed-before-its-first-checkpoint
run of ours over cleanly; a resume refuses another run's checkpoint; a torn last metrics line is tolerated."""

import json
import shutil

import pytest
from test_training import TINY, interrupt, interrupt_and_resume

from dnnet.errors import UserError
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_checkpoint, read_metrics, save_checkpoint

ONE_EPOCH = dict(TINY, epochs=1, batch_size=256)


def epochs_logged(run_dir):
    return [row["epoch"] for row in read_metrics(run_dir)]


def test_a_new_run_refuses_a_folder_of_someone_elses_files(tmp_path, digits):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds files but no run \\(notes.txt\\)"):
        train(TrainConfig.from_flat(**ONE_EPOCH), tmp_path, show_progress=False, data=digits)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # as it was: the lock goes with the run
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_new_run_refuses_a_config_json_it_did_not_write(tmp_path, digits):
    (tmp_path / "config.json").write_text('{"learning_rate": 0.1}')
    with pytest.raises(UserError, match="is not a config.json that dnnet train wrote"):
        train(TrainConfig.from_flat(**ONE_EPOCH), tmp_path, show_progress=False, data=digits)
    assert (tmp_path / "config.json").read_text() == '{"learning_rate": 0.1}'


def test_a_run_killed_before_its_first_checkpoint_starts_again_cleanly(tmp_path, digits, capsys):
    run = tmp_path / "run"
    train(TrainConfig.from_flat(**ONE_EPOCH), run, show_progress=False, data=digits)
    for path in run.iterdir():  # what a SIGKILL during the first checkpoint's write leaves: config and one metrics row
        if path.name not in ("config.json", "metrics.jsonl", "metrics.csv", "lock"):
            path.unlink()
    (run / "checkpoint.ptk3j2h1.tmp").write_bytes(b"half a checkpoint")
    train(TrainConfig.from_flat(**dict(ONE_EPOCH, epochs=2)), run, show_progress=False, data=digits)
    assert epochs_logged(run) == [1, 2]
    assert len((run / "metrics.csv").read_text().splitlines()) == 3  # header and two rows
    assert not list(run.glob("*.tmp"))
    assert "stopped before its first checkpoint; starting it again" in capsys.readouterr().err


def test_resume_refuses_a_checkpoint_copied_from_another_run(tmp_path, digits, monkeypatch):
    """Same settings, another run: only the run id tells them apart. The resumed run's history is kept."""
    interrupt_and_resume(tmp_path / "ours", digits, monkeypatch, stop_after_steps=7)
    train(TrainConfig.from_flat(**TINY), tmp_path / "other", show_progress=False, data=digits)
    metrics_before = (tmp_path / "ours" / "metrics.jsonl").read_text()
    shutil.copy(tmp_path / "other" / "checkpoint.pt", tmp_path / "ours" / "checkpoint.pt")
    with pytest.raises(UserError, match="was written by another run"):
        train(TrainConfig.from_flat(**TINY), tmp_path / "ours", resume=True, show_progress=False, data=digits)
    assert (tmp_path / "ours" / "metrics.jsonl").read_text() == metrics_before


def test_resume_refuses_a_checkpoint_of_other_settings(tmp_path, digits):
    """A checkpoint without a run id (as older versions wrote) is still checked against config.json's settings."""
    run = tmp_path / "run"
    train(TrainConfig.from_flat(**ONE_EPOCH), run, show_progress=False, data=digits)
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    del checkpoint["run_id"]
    checkpoint["train_config"]["seed"] = 7
    save_checkpoint(checkpoint, run / "checkpoint.pt")
    with pytest.raises(UserError, match="holds another run's settings \\(seed: 7 against 0"):
        train(TrainConfig.from_flat(**ONE_EPOCH), run, resume=True, show_progress=False, data=digits)


def test_the_checkpoint_and_config_json_share_the_run_id(tmp_path, digits):
    train(TrainConfig.from_flat(**ONE_EPOCH), tmp_path / "run", show_progress=False, data=digits)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert len(record["run_id"]) == 32 and load_checkpoint(tmp_path / "run" / "checkpoint.pt")["run_id"] == record["run_id"]


def test_a_torn_last_metrics_line_is_dropped_with_a_warning(tmp_path, digits, monkeypatch, capsys):
    """A power loss during an append leaves half a line: reading warns and skips it; a resume rewrites the file."""
    run = tmp_path / "run"
    interrupt(run, digits, monkeypatch, stop_after_steps=7, settings=dict(TINY, batch_size=256))  # 5 steps an epoch
    with (run / "metrics.jsonl").open("a") as stream:
        stream.write('{"epoch": 2, "lr": 0.0')
    assert epochs_logged(run) == [1]
    assert "metrics.jsonl: its last line is incomplete" in capsys.readouterr().err
    train(TrainConfig.from_flat(**dict(TINY, batch_size=256)), run, resume=True, show_progress=False, data=digits)
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_a_damaged_metrics_line_before_the_last_is_refused_by_name(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\nnot json\n{"epoch": 3}\n')
    with pytest.raises(UserError, match="metrics.jsonl, line 2, is not JSON"):
        read_metrics(tmp_path)
