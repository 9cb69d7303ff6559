"""SIGKILL at arbitrary moments, the first checkpoint's write included, then resume: the run ends with the weights
(the optimizer's and their moving average, --ema) and the metrics rows of a run that was never stopped, bit for bit."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from dnnet.train.run_directory import load_checkpoint

ARGS = ["train", "--preset", "dnnet_resnet8_g4", "--data", "digits", "--epochs", "4", "--batch-size", "128",
        "--no-channels-last", "--ema", "0.9", "--quiet"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}  # one thread: the same float sums every time


def dnnet(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dnnet.cli.main", *args], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kwargs)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_gives_the_uninterrupted_run(tmp_path):
    straight = dnnet(*ARGS, "--out", str(tmp_path / "straight"))
    assert straight.wait(timeout=300) == 0, straight.stderr.read().decode()
    run, kills = tmp_path / "killed", 0
    for delay in (2.0, 2.6, 3.1, 3.7, 2.3, 4.4, 60.0):  # seconds after each start; the last lets it finish
        resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
        process = dnnet(*ARGS, "--out", str(run), *resume)
        try:
            code = process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        assert code == 0, process.stderr.read().decode()
        break
    assert kills >= 2 and (run / "finished.json").is_file()
    a, b = load_checkpoint(tmp_path / "straight" / "checkpoint.pt"), load_checkpoint(run / "checkpoint.pt")
    for kind in ("model", "ema"):
        for key in a[kind]:
            assert torch.equal(a[kind][key], b[kind][key]), (kind, key)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    straight_rows = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    for column in ("train_loss", "val_acc_mean_cells"):  # the validation: of the average
        assert [r[column] for r in rows] == [r[column] for r in straight_rows], column
    assert not list(run.glob("*.tmp"))
