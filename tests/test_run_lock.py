"""One writer per run directory: a second training into it is refused by name; a dead writer's lock is taken over."""

import subprocess
import sys
import time

import pytest

from dnnet.cli.main import main
from dnnet.errors import UserError
from dnnet.runs.run_lock import LOCK_FILE, run_lock

HOLD = "import sys, time; from pathlib import Path; from dnnet.runs.run_lock import run_lock\n" \
       "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"


@pytest.fixture
def held_by_another_process(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield run_dir, holder
    holder.kill()
    holder.wait()


def test_a_second_training_into_a_run_in_progress_is_refused_naming_the_first(held_by_another_process, capsys):
    run_dir, holder = held_by_another_process
    assert main(["train", "--data", "digits", "--epochs", "1", "--out", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"is being written by another dnnet process (pid {holder.pid}); wait for it to end, or train into another --out" in err
    assert sorted(p.name for p in run_dir.iterdir()) == [LOCK_FILE]  # nothing of the refused run was written


def test_the_lock_of_a_killed_writer_is_taken_over(held_by_another_process):
    run_dir, holder = held_by_another_process
    with pytest.raises(UserError):
        with run_lock(run_dir):
            pass
    holder.kill()  # SIGKILL: no clean-up ran; its lock file is still there
    holder.wait()
    assert (run_dir / LOCK_FILE).read_text() == str(holder.pid)
    assert main(["train", "--data", "digits", "--epochs", "1", "--out", str(run_dir), "--quiet"]) == 0
    assert not (run_dir / LOCK_FILE).exists()  # released at the end


def test_the_lock_is_released_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with run_lock(tmp_path):
            raise RuntimeError("a defect mid-run")
    with run_lock(tmp_path):  # free again at once
        time.sleep(0)
