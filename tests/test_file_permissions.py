"""Files dnnet writes honour the umask, as any other program's do (the temporary file behind an atomic write is
created 0600)."""

import os
import stat
from pathlib import Path

import pytest

from dnnet.utils.atomic_file import atomic_write


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_an_atomic_write_gets_the_mode_the_umask_gives(umask, tmp_path, mask, expected):
    umask(mask)
    with atomic_write(tmp_path / "file.json") as stream:
        stream.write(b"{}")
    assert mode(tmp_path / "file.json") == expected


def test_a_training_runs_files_are_readable_by_others_under_the_usual_umask(umask, tmp_path, digits):
    from dnnet.train import TrainConfig, train

    umask(0o022)
    run = tmp_path / "run"
    config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False)
    train(config, run, show_progress=False, data=digits)
    written = [path for path in run.iterdir() if path.is_file() and path.name != "lock"]
    assert {p.name for p in written} >= {"config.json", "checkpoint.pt", "accuracy_val.json", "accuracy_test.json", "finished.json"}
    assert {p.name: mode(p) for p in written} == {p.name: 0o644 for p in written}
