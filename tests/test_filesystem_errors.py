"""The machine's errors (a full disk, a file where a folder goes) are one line naming the path, and leave no
half-written or zero-byte file behind."""

import errno

import pytest

import dnnet.utils.atomic_file as atomic_file
from dnnet.cli.main import main

TRAIN = ["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--batch-size", "256", "--quiet"]


def test_a_full_disk_at_the_checkpoint_is_one_line_and_leaves_nothing_half_written(tmp_path, monkeypatch, capsys):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "fsync", full)
    assert main([*TRAIN, "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"dnnet train: error: {tmp_path / 'run'}/config.json: No space left on device"]
    assert not (tmp_path / "run").exists()  # config.json was the first write: nothing is left, not even the folder


def test_a_full_disk_at_the_first_checkpoint_keeps_the_rest(tmp_path, monkeypatch, capsys):
    real = atomic_file.os.fsync
    calls = []

    def full_after_config(fd):
        calls.append(fd)
        if len(calls) > 1:  # config.json goes through; the checkpoint does not
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(atomic_file.os, "fsync", full_after_config)
    assert main([*TRAIN, "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path / 'run'}/checkpoint.pt: No space left on device")
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "checkpoint.pt" not in names and not [n for n in names if n.endswith(".tmp")]


def test_out_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "notes").write_text("mine")
    assert main([*TRAIN, "--out", str(tmp_path / "notes")]) == 2
    assert capsys.readouterr().err.strip() == f"dnnet train: error: --out {tmp_path / 'notes'} is a file, not a folder for a run"
    assert (tmp_path / "notes").read_text() == "mine"


def test_other_os_errors_keep_their_traceback(monkeypatch, tmp_path):
    """An error of the machine that names no path is not the user's to fix: it stays a defect's traceback."""
    import dnnet.cli.train_command as train_command

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(train_command, "train", broken)
    with pytest.raises(OSError, match="Input/output error"):
        main([*TRAIN, "--out", str(tmp_path / "run")])
