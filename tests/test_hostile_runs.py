"""What a run folder or a weights folder may hold that dnnet did not write (an edited config.json, NaN weights, a
half-started run, a class name that is not UTF-8), and the settings at the edge of their range: one line and exit 2
(or the work done), never a traceback or an allocation of the whole machine."""

import json
import shutil

import pytest
import torch

from dnnet.cli.main import main
from dnnet.runs.run_files import CHECKPOINT_FILE, CONFIG_FILE


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("hostile") / "run")


def edited_copy(run, folder, edit):
    copy = shutil.copytree(run, folder)
    record = json.loads((copy / CONFIG_FILE).read_text())
    edit(record)
    (copy / CONFIG_FILE).write_text(json.dumps(record))
    return copy


def one_error_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("field, value, message", [
    ("groups", 100_000, "the config.json beside it does not describe these weights"),
    ("group_channels", [1, 2, 40_000], "the config.json beside it does not describe these weights"),
    ("num_classes", 10**9, "10 class names for 1000000000 outputs"),
])
def test_a_runs_config_describing_a_huge_network_is_refused_before_building(tiny, tmp_path, capsys, field, value, message):
    run = edited_copy(tiny, tmp_path / "run", lambda r: r["net_config"].update({field: value}))
    one_error_line(capsys, ["eval", str(run)], message)


def test_nan_weights_in_a_runs_checkpoint_are_refused(tiny, tmp_path, capsys):
    run = shutil.copytree(tiny, tmp_path / "run")
    checkpoint = torch.load(run / CHECKPOINT_FILE, weights_only=False)
    checkpoint["model"]["stem.weight"][0, 0, 0, 0] = float("nan")
    torch.save(checkpoint, run / CHECKPOINT_FILE)
    one_error_line(capsys, ["eval", str(run)], "stem.weight holds NaN or infinite values")
    one_error_line(capsys, ["pretrained", str(run), "--out", str(tmp_path / "w")], "stem.weight holds NaN or infinite values")


def test_a_resume_of_a_run_stopped_before_its_first_checkpoint_says_to_start_it_over(tiny, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(tiny / CONFIG_FILE, run / CONFIG_FILE)  # what a run killed in its first epoch leaves
    one_error_line(capsys, ["train", "--resume", "--out", str(run)], "start it over: the same command without --resume")


def test_malformed_preprocessing_in_a_weights_folder_is_one_line(tiny, tmp_path, capsys):
    assert main(["pretrained", str(tiny), "--out", str(tmp_path / "w")]) == 0
    capsys.readouterr()
    record = json.loads((tmp_path / "w" / CONFIG_FILE).read_text())
    record["preprocessing"]["mean"] = "abc"
    (tmp_path / "w" / CONFIG_FILE).write_text(json.dumps(record))
    one_error_line(capsys, ["eval", "--weights", str(tmp_path / "w"), "--data", "digits"], "its preprocessing is not lists of numbers")


def test_weights_of_a_run_whose_class_name_is_not_utf8_are_written_whole(tiny, tmp_path, capsys):
    run = edited_copy(tiny, tmp_path / "run", lambda r: r["data"]["classes"].__setitem__(0, "\udcffclass"))
    assert main(["pretrained", str(run), "--out", str(tmp_path / "w")]) == 0
    assert "\\udcffclass" in (tmp_path / "w" / "README.md").read_text() and (tmp_path / "w" / CONFIG_FILE).is_file()


def test_the_largest_seed_trains_and_small_seeds_keep_their_streams():
    from dnnet.train.random_streams import random_stream

    assert random_stream(2**63 - 1, "augmentation", 3).initial_seed() < 2**63
    assert random_stream(5, "augmentation", 2).initial_seed() == 5 * 1_000_003 + 2 + 500_009  # as it always was


def test_a_network_too_large_for_this_machine_is_refused_before_it_is_built(tmp_path, capsys):
    argv = ["train", "--groups", "1000000", "--epochs", "1", "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert "parameters: training needs about" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_a_device_as_trace_or_config_is_named_as_not_a_regular_file(tiny, capsys):
    one_error_line(capsys, ["simulate", str(tiny), "--trace", "/dev/null"], "trace /dev/null is not a regular file")
    one_error_line(capsys, ["train", "--config", "/dev/null"], "--config /dev/null is not a regular file")


def test_a_cache_dir_that_is_a_file_is_said_to_be_one(tmp_path, capsys):
    from data_files import write_image_tree

    from dnnet.data import load_data

    write_image_tree(tmp_path / "tree", {"": {"cat": 3, "dog": 3}})
    (tmp_path / "cachefile").write_text("")
    load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cachefile", val_count=1)
    assert f"({tmp_path / 'cachefile'} is a file, not a folder); going on without it" in capsys.readouterr().err


def test_a_foreign_pickle_as_checkpoint_is_one_line_without_torchs_warnings(tiny, tmp_path, capsys):
    import pickle

    run = shutil.copytree(tiny, tmp_path / "run")
    (run / CHECKPOINT_FILE).write_bytes(pickle.dumps({"model": object()}, protocol=4))
    one_error_line(capsys, ["eval", str(run)], "is not a checkpoint that dnnet train wrote")
