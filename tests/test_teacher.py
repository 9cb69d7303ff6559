"""--teacher: every cell learns from a trained network's full-network logits on the same augmented batch; a teacher that
does not fit the data, or that changed before a resume, is refused in one line."""

import json
import re
import shutil

import pytest
import torch
from test_training import TINY, interrupt_and_resume, weights

from dnnet.cli.main import main
from dnnet.data import normalize
from dnnet.deploy.pretrained_from_run import pretrained_from_run
from dnnet.errors import UserError
from dnnet.loss import JointLoss
from dnnet.models import create_model
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_trained_model
from dnnet.train.teacher import load_teacher, weights_sha256

STUDENT = ["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--batch-size", "256", "--no-channels-last", "--quiet"]


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("teacher") / "run")


def test_the_loss_gets_the_teachers_full_network_logits_on_the_same_augmented_batch(tmp_path, teacher_run, monkeypatch):
    """... and its time is counted: a clock that advances 1 s in the student's normalisation and 1 s in the teacher's
    makes each step 2 s, half of them the teacher's."""
    import time

    import dnnet.train.epoch_loop as loop
    import dnnet.train.teacher as teacher_module

    batches, given = [], []  # the student's augmented uint8 images, and what reached the loss, at every step
    real_normalize, real_forward = loop.normalize, JointLoss.forward
    clock = [0.0]

    def recording_normalize(images, mean, std):
        batches.append(images.clone())
        clock[0] += 1.0
        return real_normalize(images, mean, std)

    def teachers_normalize(images, mean, std):
        clock[0] += 1.0
        return real_normalize(images, mean, std)

    def recording_forward(self, logits, target, coefficients=None, teacher_logits=None):
        given.append((self.teacher_weight, self.teacher_temperature, teacher_logits))
        return real_forward(self, logits, target, coefficients, teacher_logits)

    monkeypatch.setattr(loop, "normalize", recording_normalize)
    monkeypatch.setattr(teacher_module, "normalize", teachers_normalize)
    monkeypatch.setattr(JointLoss, "forward", recording_forward)
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    run = tmp_path / "student"
    assert main([*STUDENT, "--teacher", str(teacher_run), "--teacher-weight", "0.3", "--teacher-temperature", "2",
                 "--out", str(run)]) == 0
    teacher, record = load_trained_model(teacher_run)  # in eval mode: its running statistics, untouched by the batches
    mean, std = record["data"]["mean"], record["data"]["std"]  # its own preprocessing, not the student's
    assert len(given) == len(batches) == 1237 // 256
    for images, (weight, temperature, logits) in zip(batches, given):
        assert (weight, temperature) == (0.3, 2.0)
        with torch.no_grad():
            torch.testing.assert_close(logits, teacher(normalize(images, mean, std)))  # the last cell: the full network
    saved = json.loads((run / "config.json").read_text())
    assert (saved["train_config"]["teacher"], saved["train_config"]["teacher_weight"]) == (str(teacher_run), 0.3)
    assert saved["teacher"]["source"] == str(teacher_run.resolve()) and saved["teacher"]["kind"] == "run"
    assert saved["teacher"]["weights_sha256"] == weights_sha256(teacher)
    row = json.loads((run / "metrics.jsonl").read_text())
    assert (row["seconds"], row["teacher_seconds"], row["teacher_share"]) == (8.0, 4.0, 0.5)


def test_a_pretrained_folder_teaches_as_the_run_it_came_from(tmp_path, teacher_run, digits):
    folder = pretrained_from_run(teacher_run, tmp_path / "weights")
    from_run, from_folder = (load_teacher(source, digits, torch.device("cpu")) for source in (teacher_run, folder))
    assert (from_run.kind, from_folder.kind) == ("run", "pretrained")
    assert from_run.weights_sha256 == from_folder.weights_sha256
    images = digits.val.images[:16]
    assert torch.equal(from_run.logits(images), from_folder.logits(images))


def pretrained_folder(path, preprocessing=None, **settings):
    """A pretrained weights folder of dnnet_resnet8_g4 with `settings` (num_classes, image_size...)."""
    model = create_model("dnnet_resnet8_g4", **{"in_channels": 3, "image_size": 16, **settings})
    model.save_pretrained(path, preprocessing or {"mean": [0.5] * 3, "std": [0.25] * 3})
    return path


@pytest.mark.parametrize("make,message", [
    (lambda t, run: pretrained_folder(t / "w", num_classes=3), "predicts 3 classes; digits has 10"),
    (lambda t, run: pretrained_folder(t / "w", image_size=32), r"takes images of shape \(3, 32, 32\); digits has \(3, 16, 16\)"),
    (lambda t, run: pretrained_folder(t / "w", {"mean": [0.5] * 3, "std": [0.25] * 3, "classes": list("abcdefghij")}),
     "was trained on other classes"),
    (lambda t, run: pretrained_folder(t / "w", {"classes": list("0123456789")}), "records no mean and std"),
    (lambda t, run: t, "neither a run directory"),
    (lambda t, run: (shutil.copytree(run, t / "copy"), (t / "copy" / "finished.json").unlink(), t / "copy")[-1],
     "the run has not finished training"),
])
def test_a_teacher_that_does_not_fit_is_refused_in_one_line(tmp_path, teacher_run, capsys, make, message):
    source = make(tmp_path, teacher_run)
    assert main([*STUDENT, "--teacher", str(source), "--out", str(tmp_path / "student")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"teacher {source}" in err[0]
    assert re.search(message, err[0]), err[0]


def test_a_resume_refuses_a_teacher_whose_weights_changed(tmp_path, digits):
    teacher = pretrained_folder(tmp_path / "teacher", {"mean": [0.5] * 3, "std": [0.25] * 3})
    config = TrainConfig.from_flat(**{**TINY, "epochs": 1, "batch_size": 256}, teacher=str(teacher))
    train(config, tmp_path / "run", show_progress=False, data=digits)
    train(config, tmp_path / "run", resume=True, show_progress=False, data=digits)  # the same teacher: fine
    torch.manual_seed(1)
    pretrained_folder(teacher, {"mean": [0.5] * 3, "std": [0.25] * 3})  # other weights in the same folder
    with pytest.raises(UserError, match="has changed since .* began"):
        train(config, tmp_path / "run", resume=True, show_progress=False, data=digits)


def test_an_interrupted_run_with_a_teacher_resumes_bit_exactly(tmp_path, teacher_run, digits, monkeypatch):
    settings = dict(TINY, teacher=str(teacher_run), teacher_weight=0.7, teacher_temperature=3.0)
    train(TrainConfig.from_flat(**settings), tmp_path / "straight", show_progress=False, data=digits)
    interrupt_and_resume(tmp_path / "resumed", digits, monkeypatch, stop_after_steps=7, settings=settings)
    straight, resumed = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    for key in straight:
        assert torch.equal(resumed[key], straight[key]), key


def test_teacher_settings_without_a_teacher_are_refused():
    with pytest.raises(UserError, match="teacher_weight and teacher_temperature apply to distillation from a teacher"):
        TrainConfig.from_flat(teacher_weight=0.3, teacher_temperature=2.0)
