"""`dnnet train`: the run directory, seeds, interruption and resume, checkpoints, NaN losses, command-line errors."""

import json
from pathlib import Path

import pytest
import torch

from dnnet.cli.main import main
from dnnet.train import Interrupted, NonFiniteLoss, TrainConfig, train
from dnnet.train.run_directory import is_finished, load_checkpoint, load_trained_model, save_checkpoint

TINY = dict(preset="dnnet_resnet8_g4", data="digits", epochs=2, batch_size=64, channels_last=False)


def weights(run_dir):
    return load_checkpoint(run_dir / "checkpoint.pt")["model"]


def test_run_directory_holds_everything(tmp_path, digits):
    summary = train(TrainConfig.from_flat(**TINY), tmp_path / "run", show_progress=False, data=digits)
    run = tmp_path / "run"
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.jsonl", "metrics.csv", "checkpoint.pt", "accuracy_val.json", "accuracy_test.csv",
            "finished.json"} <= names
    assert not any(name.endswith(".png") for name in names)  # training writes data; figures are drawn by their callers
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    record = json.loads((run / "config.json").read_text())
    assert record["train_config"]["epochs"] == 2 and record["weighting_resolved"] == "uniform"
    assert record["data"]["val"] == 200 and record["provenance"]["torch"]
    assert summary["test"].shape == (4, 4)
    model, _ = load_trained_model(run)
    assert model.config.image_size == 16 and model.config.num_classes == 10


def test_same_seed_same_weights(tmp_path, digits):
    train(TrainConfig.from_flat(**TINY), tmp_path / "a", show_progress=False, data=digits)
    train(TrainConfig.from_flat(**TINY), tmp_path / "b", show_progress=False, data=digits)
    for key, value in weights(tmp_path / "a").items():
        assert torch.equal(value, weights(tmp_path / "b")[key]), key


def interrupt(run_dir, digits, monkeypatch, stop_after_steps, settings=TINY, **train_options):
    """Trains `settings` into `run_dir` with a Ctrl-C after `stop_after_steps` steps (`train_options`: train()'s)."""
    import dnnet.train.run as run_module

    class StopAfter(run_module.StopRequest):
        checks = 0

        @property
        def requested(self):
            StopAfter.checks += 1
            return StopAfter.checks > stop_after_steps

        @requested.setter
        def requested(self, value):
            pass

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "StopRequest", StopAfter)
        with pytest.raises(Interrupted, match="continue with: dnnet train --resume"):
            train(TrainConfig.from_flat(**settings), run_dir, show_progress=False, data=digits, **train_options)


def interrupt_and_resume(run_dir, digits, monkeypatch, stop_after_steps, settings=TINY, resume_settings=None,
                         **train_options):
    """`interrupt`, then resumes the run to the end (called with `resume_settings`, default `settings`)."""
    interrupt(run_dir, digits, monkeypatch, stop_after_steps, settings, **train_options)
    train(TrainConfig.from_flat(**(resume_settings or settings)), run_dir, resume=True, show_progress=False, data=digits,
          **train_options)


RECIPE = dict(TINY, gradient_equilibrium=True, width_samples=1, exit_ramp=0.5, drop_stem_exit=True, warmup_epochs=1, auxiliary_gradient=0.5,
              distill_weight=0.5, loss_scale="cells", label_smoothing=0.1, ema=0.9)


@pytest.mark.parametrize("settings", [TINY, RECIPE], ids=["joint", "recipe"])
@pytest.mark.parametrize("stop_after_steps", [7, 19, 26])  # mid epoch 1, end of epoch 1, mid epoch 2
def test_interrupted_and_resumed_run_ends_with_the_same_weights(tmp_path, digits, monkeypatch, stop_after_steps, settings):
    train(TrainConfig.from_flat(**settings), tmp_path / "straight", show_progress=False, data=digits)
    interrupt_and_resume(tmp_path / "resumed", digits, monkeypatch, stop_after_steps, settings)
    straight, resumed = (load_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("straight", "resumed"))
    for kind in ("model", "ema") if settings.get("ema") else ("model",):  # the weights stepped, and their average
        for key in straight[kind]:
            torch.testing.assert_close(resumed[kind][key], straight[kind][key], rtol=0, atol=0, msg=f"{kind} {key}")
    rows = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]


def test_epoch_time_and_speed_count_the_steps_before_a_resume(tmp_path, digits, monkeypatch):
    """A clock that advances 1 s per training step: each 19-step epoch of 64 images per step took 19 s, 64 images/s,
    also epoch 1, interrupted after 7 steps and resumed for its last 12."""
    import time

    import dnnet.train.epoch_loop as loop

    clock = [0.0]
    real_normalize = loop.normalize

    def one_second_step(images, mean, std):
        clock[0] += 1.0
        return real_normalize(images, mean, std)

    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(loop, "normalize", one_second_step)
    interrupt_and_resume(tmp_path / "run", digits, monkeypatch, stop_after_steps=7)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["seconds"], r["images_per_s"]) for r in rows] == [(19.0, 64.0), (19.0, 64.0)]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, digits, monkeypatch):
    import dnnet.train.epoch_loop as loop

    calls = {"n": 0}
    real_normalize = loop.normalize

    def poisoned(images, mean, std):
        calls["n"] += 1
        x = real_normalize(images, mean, std)
        return x * float("nan") if calls["n"] > 19 else x  # epoch 1 has 19 steps

    monkeypatch.setattr(loop, "normalize", poisoned)
    with pytest.raises(NonFiniteLoss, match="loss became nan at epoch 2, step 1"):
        train(TrainConfig.from_flat(**TINY), tmp_path / "run", show_progress=False, data=digits)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert checkpoint["position"]["epoch"] == 1 and checkpoint["position"]["step"] == 0
    assert all(torch.isfinite(v).all() for v in checkpoint["model"].values() if v.is_floating_point())


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"a": torch.ones(3)}, path)

    def crash(obj, stream):
        stream.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"a": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["a"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    torch.save({"model": {}, "hook": print}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="holds Python objects beyond tensors") as refused:
        load_checkpoint(tmp_path / "checkpoint.pt")
    assert "weights_only=False" not in str(refused.value)  # torch's advice is the unsafe way round


@pytest.mark.parametrize("damage", [lambda data: b"garbage" * 10, lambda data: data[: len(data) // 2], lambda data: b""],
                         ids=["garbage", "cut short", "empty"])
def test_a_damaged_checkpoint_is_named_as_such(tmp_path, damage):
    torch.save({"model": {"w": torch.ones(100)}}, tmp_path / "checkpoint.pt")
    (tmp_path / "checkpoint.pt").write_bytes(damage((tmp_path / "checkpoint.pt").read_bytes()))
    with pytest.raises(ValueError, match="is not a checkpoint that dnnet train wrote, or is damaged"):
        load_checkpoint(tmp_path / "checkpoint.pt")


def test_resuming_a_run_stopped_before_its_first_checkpoint_says_to_start_it_over(tmp_path):
    from dnnet.train.run import checkpoint_to_resume

    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="stopped before its first checkpoint\\); start it over"):
        checkpoint_to_resume(tmp_path, resume=True)


def test_existing_run_needs_resume(tmp_path, digits):
    train(TrainConfig.from_flat(**{**TINY, "epochs": 1}), tmp_path / "run", show_progress=False, data=digits)
    with pytest.raises(ValueError, match="already holds a run; pass --resume"):
        train(TrainConfig.from_flat(**TINY), tmp_path / "run", show_progress=False, data=digits)


def test_plain_and_depth_only_presets_train_with_their_own_losses(tmp_path, digits):
    for preset, weighting in [("resnet20", "final"), ("resnet20_anytime", "depth_only")]:  # as the ResNet-32 ones, smaller
        config = TrainConfig.from_flat(**{**TINY, "preset": preset, "groups": 2, "epochs": 1, "batch_size": 256})
        train(config, tmp_path / preset, show_progress=False, data=digits)
        assert json.loads((tmp_path / preset / "config.json").read_text())["weighting_resolved"] == weighting


def test_cli_train_then_eval(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--batch-size", "128", "--out", str(out), "--quiet"]) == 0
    assert "done:" in capsys.readouterr().out
    assert main(["eval", str(out), "--split", "test"]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy of the full network (4x4)" in printed and "mean over all 16 cells" in printed
    stored = json.loads((out / "accuracy_test.json").read_text())["accuracy"]
    assert len(stored) == 4 and len(stored[0]) == 4


@pytest.mark.parametrize("argv,message", [
    (["train", "--preset", "resnet99"], "unknown preset 'resnet99'"),
    (["train", "--data", "/no/such/folder"], "neither a named data set"),
    (["train", "--epochs", "0"], "epochs must be at least 1"),
    (["eval", "/no/such/run"], "is not a run directory"),
    (["train", "--resume"], "--resume needs --out"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, argv, message):
    assert main(argv + (["--out", str(tmp_path / "x")] if argv[0] == "train" and "--resume" not in argv else [])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_resume_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--resume", "--out", str(out), "--preset", "dnnet_resnet20_g8"]) == 2
    assert "holds a run with preset='dnnet_resnet8_g4'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])  # Ctrl-C, and what a batch scheduler sends before it kills
def test_ctrl_c_saves_and_resume_finishes(tmp_path, signal_name):
    """A real SIGINT or SIGTERM to a real `dnnet train` process: exit 130, a resumable checkpoint, then completion."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "dnnet.cli.main", "train", "--preset", "dnnet_resnet8_g4", "--epochs", "8",
               "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # wait until training is under way
        if line.startswith("epoch 2/8"):
            break
    time.sleep(0.2)
    process.send_signal(getattr(signal, signal_name))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted: stopped at epoch" in err and "Traceback" not in err
    position = load_checkpoint(out / "checkpoint.pt")["position"]
    assert 1 <= position["epoch"] < 8
    finished = subprocess.run([sys.executable, "-m", "dnnet.cli.main", "train", "--resume", "--out", str(out), "--quiet"],
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert load_checkpoint(out / "checkpoint.pt")["position"]["epoch"] == 8


def test_provenance_names_the_commit_given_by_the_environment(monkeypatch):
    from dnnet.utils.provenance import git_commit

    assert git_commit() != "0123abc"
    monkeypatch.setenv("DNNET_COMMIT", "0123abc")  # a copied tree whose git metadata is missing or stale
    assert git_commit() == "0123abc"


@pytest.mark.parametrize("killed_in", ["test grid", "marker"])
def test_run_killed_while_finishing_is_not_finished(tmp_path, digits, monkeypatch, killed_in):
    """Killed after the validation grid, before or while the marker is written: the run is not finished, and
    `RunStore` and `demo` both decide with `is_finished`."""
    import dnnet.train.run as run_module
    import dnnet.utils.atomic_file

    real_write, real_replace = run_module.write_accuracy_grid, dnnet.utils.atomic_file.os.replace

    def killed_before_test(accuracy, run_dir, split, meta):
        if split == "test":
            raise KeyboardInterrupt
        return real_write(accuracy, run_dir, split, meta)

    def killed_before_rename(source, target):  # the marker's bytes are written, not yet renamed into place
        if Path(target).name == "finished.json":
            raise KeyboardInterrupt
        real_replace(source, target)

    if killed_in == "test grid":
        monkeypatch.setattr(run_module, "write_accuracy_grid", killed_before_test)
    else:
        monkeypatch.setattr(dnnet.utils.atomic_file.os, "replace", killed_before_rename)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig.from_flat(**{**TINY, "epochs": 1}), tmp_path / "run", show_progress=False, data=digits)
    monkeypatch.undo()
    assert not is_finished(tmp_path / "run")
    train(TrainConfig.from_flat(**{**TINY, "epochs": 1}), tmp_path / "run", resume=True, show_progress=False, data=digits)
    assert is_finished(tmp_path / "run") and (tmp_path / "run" / "accuracy_test.json").is_file()


WIDENED = "--groups 6 widens dnnet_resnet8_g4 beyond its 4 groups: 6/12/24 channels, 2.0x the preset's MACs"


@pytest.mark.parametrize("groups, note", [(6, WIDENED), (2, None), (4, None)])
def test_groups_beyond_the_preset_are_said_in_one_line(tmp_path, groups, note, monkeypatch, capsys):
    from dnnet.cli.main import main

    monkeypatch.setattr("dnnet.cli.train_command.train", lambda config, *a, **k: {})  # the note comes before training
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--groups", str(groups), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert (note in err and err.count("\n") == 1) if note else "widens" not in err


@pytest.mark.parametrize("argv", [["--data", "no/such/data"], ["--data", "digits", "--val-count", "100000"]],
                         ids=["missing data", "too large a validation split"])
def test_a_run_that_fails_before_writing_leaves_no_folder(tmp_path, argv, capsys):
    from dnnet.cli.main import main

    out = tmp_path / "new" / "run"
    assert main(["train", "--preset", "dnnet_resnet8_g4", *argv, "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()
