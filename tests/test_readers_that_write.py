"""Commands that write their results into a run (eval, latency, anytime, simulate, report) check that the checkpoint
is the run's own and that no other process is writing the run: nothing of the run is overwritten otherwise."""

import subprocess
import sys

import pytest

from dnnet.cli.main import main
from dnnet.runs.run_files import CHECKPOINT_FILE

HOLD = "import sys, time; from pathlib import Path; from dnnet.runs.run_lock import run_lock\n" \
       "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"

WRITERS = {  # command line after `dnnet`, given RUN, and a file it writes into the run
    "eval": (["eval", "{run}", "--split", "val"], "accuracy_val.json"),
    "latency": (["latency", "{run}", "--repeats", "1"], "latency_eager.json"),
    "anytime": (["anytime", "{run}", "--images", "4"], "anytime.json"),
    "report": (["report", "{run}"], "report.html"),
}


def files_of(run):
    return {path.name: path.read_bytes() for path in sorted(run.iterdir()) if path.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, shared_run):
    """Two runs of the same architecture (so that one's checkpoint loads into the other), each with its run id."""
    root = tmp_path_factory.mktemp("writers")
    return shared_run("tiny", root / "ours"), shared_run("two_epochs", root / "stranger")


@pytest.mark.parametrize("command", [name for name in WRITERS if name != "report"])  # report reads no checkpoint
def test_a_checkpoint_of_another_run_is_refused_and_nothing_is_written(two_runs, tmp_path, command, capsys):
    import shutil

    ours, stranger = two_runs
    run = shutil.copytree(ours, tmp_path / "run")
    shutil.copy(stranger / CHECKPOINT_FILE, run / CHECKPOINT_FILE)
    before = files_of(run)
    assert main([part.format(run=run) for part in WRITERS[command][0]]) == 2
    err = capsys.readouterr().err
    assert "belongs to another run (run id" in err and err.count("\n") == 1
    assert files_of(run) == before


@pytest.mark.parametrize("command", WRITERS)
def test_a_run_being_trained_is_not_written_into(two_runs, tmp_path, command, capsys):
    import shutil

    run = shutil.copytree(two_runs[0], tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = files_of(run)
        argv, written = WRITERS[command]
        assert main([part.format(run=run) for part in argv]) == 2
        assert f"{run} is being written by another dnnet process (pid {holder.pid})" in capsys.readouterr().err
        assert files_of(run) == before
    finally:
        holder.kill()
        holder.wait()
    argv, written = WRITERS[command]
    assert main([part.format(run=run) for part in argv]) == 0  # the writer gone, the command runs
    assert (run / written).is_file()
