"""A run's config.json is read in one place (`RunRecord`, `TrainedRun`): what `dnnet train` writes reads back as written,
every committed run under docs/ still reads, and a record that lacks what every run records is named."""

import json
from pathlib import Path

import pytest
import torch

from dnnet.config import NetConfig
from dnnet.data import normalize
from dnnet.data.fingerprint import data_fingerprint
from dnnet.errors import MissingFile, UserError
from dnnet.runs import CONFIG_FILE, RunRecord, TrainConfig, TrainedRun
from dnnet.train.run_directory import load_trained_model

DOCS = Path(__file__).resolve().parents[1] / "docs"
COMMITTED_RUNS = sorted(path.parent for path in DOCS.rglob(CONFIG_FILE) if (path.parent / "accuracy_val.json").is_file())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("record") / "run")


def test_there_are_committed_runs_to_read():
    assert len(COMMITTED_RUNS) >= 30


@pytest.mark.parametrize("run_dir", COMMITTED_RUNS, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_committed_run_reads(run_dir):
    """Runs from every version that wrote one: older ones lack run_id, the resolved factors, the fingerprint..."""
    record = RunRecord.read(run_dir)
    written = json.loads((run_dir / CONFIG_FILE).read_text())
    assert record.train_config == TrainConfig.from_dict(written["train_config"])
    assert record.net_config == NetConfig.from_dict(written["net_config"])
    assert record.data.stats == (written["data"]["mean"], written["data"]["std"])
    assert len(record.data.mean) == len(record.data.std) == record.data.image_shape[0] == record.net_config.in_channels
    assert len(record.data.classes) == record.net_config.num_classes
    assert record.run_id == written.get("run_id") and record.provenance == written["provenance"]
    run = TrainedRun.open(run_dir)
    assert run.grid("val").shape == record.net_config.grid_shape  # the grid beside it is of this architecture


def test_what_train_writes_reads_back_as_written(tiny_run):
    written = json.loads((tiny_run / CONFIG_FILE).read_text())
    assert RunRecord.read(tiny_run).to_dict() == written
    assert list(RunRecord.read(tiny_run).to_dict()) == list(written)  # in the same order


def test_a_trained_run_gives_the_network_data_and_preprocessing_of_the_run(tiny_run, digits):
    run = TrainedRun.open(tiny_run)
    model, written = load_trained_model(tiny_run)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(run.model.state_dict()[name], tensor, rtol=0, atol=0)
    assert not run.model.training
    assert data_fingerprint(run.data()) == data_fingerprint(digits) == run.record.data.fingerprint
    images = digits.test.images[:5]
    torch.testing.assert_close(run.normalize(images), normalize(images, written["data"]["mean"], written["data"]["std"]))
    assert run.optional_grid("test").shape == run.grid("val").shape == (4, 4)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("data"), "lacks 'data'"),
    (lambda r: r["data"].pop("mean"), "lacks 'data.mean'"),
    (lambda r: r.update(net_config=[1, 2]), "'net_config' is not a JSON object"),
    (lambda r: r["data"].update(classes=10), "is not a config.json that dnnet train wrote"),
    (lambda r: r["data"].update(classes=["a", "b", "c"]), "3 class names for 10 outputs"),
    (lambda r: r["data"].update(image_shape=[1, 16, 16]), "images of 1 channels for a network that takes 3"),
    (lambda r: r["data"].update(mean=[0.5, 0.5]), "2 means and 3 stds for 3 channels"),
])
def test_a_record_lacking_what_every_run_records_is_named(tiny_run, tmp_path, edit, message):
    record = json.loads((tiny_run / CONFIG_FILE).read_text())
    edit(record)
    (tmp_path / CONFIG_FILE).write_text(json.dumps(record))
    with pytest.raises(UserError, match=message) as error:
        RunRecord.read(tmp_path)
    assert str(tmp_path / CONFIG_FILE) in str(error.value)


def test_a_folder_without_a_record_is_not_a_run(tmp_path):
    with pytest.raises(MissingFile, match="is not a run directory \\(config.json not found\\)"):
        TrainedRun.open(tmp_path)


@pytest.mark.parametrize("command", ["budgeted", "simulate"])
@pytest.mark.parametrize("edit, message", [
    ({"name": "cifar10"}, "the runs were trained on different data (cifar10, digits)"),
    ({"fingerprint": "0" * 64}, "the runs were trained on different images or labels of digits (their config.json "
                                "fingerprints differ: DNNet, "),
])
def test_runs_compared_on_other_data_are_refused_by_what_differs(tiny_run, tmp_path, command, edit, message, capsys):
    """Not a blame on --data-dir: the baseline's own record says it trained on other data."""
    import shutil

    from dnnet.cli.main import main

    baseline = shutil.copytree(tiny_run, tmp_path / "baseline")
    record = json.loads((baseline / CONFIG_FILE).read_text())
    record["data"].update(edit)
    (baseline / CONFIG_FILE).write_text(json.dumps(record))
    extra = ["--trace", "contention"] if command == "simulate" else []
    assert main([command, str(tiny_run), "--baseline", str(baseline), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "--data-dir" not in err
