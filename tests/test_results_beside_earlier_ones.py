"""A command that reads a run never writes over an earlier result in it: eval compares a grid the run has, anytime,
budgeted and simulate write a new name beside the old one, `--out` writes where it says."""

import json
import shutil

import pytest

from dnnet.cli.main import main
from dnnet.runs.fresh_names import newest_name, unused_name


def files_of(run):
    return {path.relative_to(run): path.read_bytes() for path in sorted(run.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("beside") / "run")


def test_unused_names_count_up_and_share_a_number_across_suffixes(tmp_path):
    assert unused_name(tmp_path, "anytime", [".json"]) == "anytime"
    (tmp_path / "anytime.json").write_text("{}")
    assert unused_name(tmp_path, "anytime", [".json"]) == "anytime-2"
    (tmp_path / "trace-2.png").write_text("")  # one file of a result takes its number for all of them
    (tmp_path / "trace.json").write_text("")
    assert unused_name(tmp_path, "trace", [".json", ".png"]) == "trace-3"
    (tmp_path / "budgeted").mkdir()
    assert unused_name(tmp_path, "budgeted", [""]) == "budgeted-2"
    (tmp_path / "anytime-5.json").write_text("{}")  # a gap (a deleted result) is not filled: newer is always higher
    assert unused_name(tmp_path, "anytime", [".json"]) == "anytime-6"
    assert newest_name(tmp_path, "anytime", ".json") == tmp_path / "anytime-5.json"


def test_the_newest_name_is_the_highest_number_not_the_latest_in_the_alphabet(tmp_path):
    assert newest_name(tmp_path, "anytime", ".json") is None
    for name in ("anytime.json", "anytime-2.json", "anytime-10.json", "anytime-x.json", "anytime_old.json"):
        (tmp_path / name).write_text("{}")
    assert newest_name(tmp_path, "anytime", ".json") == tmp_path / "anytime-10.json"


def test_eval_leaves_a_grid_the_run_has_and_says_it_is_the_same(tiny_run, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    before = files_of(run)
    assert main(["eval", str(run), "--split", "val", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["wrote"] == []
    assert files_of(run) == before
    assert main(["eval", str(run), "--split", "val"]) == 0
    assert f"the same as {run / 'accuracy_val.json'}, which is left as it is" in capsys.readouterr().out


def test_eval_says_how_far_a_different_saved_grid_is_and_leaves_it(tiny_run, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    record = json.loads((run / "accuracy_val.json").read_text())
    record["accuracy"][0][0] = round(record["accuracy"][0][0] + 0.125, 6) if record["accuracy"][0][0] < 0.5 else \
        round(record["accuracy"][0][0] - 0.125, 6)
    (run / "accuracy_val.json").write_text(json.dumps(record))
    before = files_of(run)
    assert main(["eval", str(run), "--split", "val"]) == 0
    assert f"up to 12.50 points from {run / 'accuracy_val.json'}, which is left as it is" in capsys.readouterr().out
    assert files_of(run) == before


def test_eval_out_writes_the_grid_where_it_says(tiny_run, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    before = files_of(run)
    assert main(["eval", str(run), "--split", "test", "--out", str(tmp_path / "grids"), "--json"]) == 0
    wrote = json.loads(capsys.readouterr().out)["wrote"]
    assert wrote == [str(tmp_path / "grids" / f"accuracy_test.{suffix}") for suffix in ("csv", "json", "png")]
    assert json.loads((tmp_path / "grids" / "accuracy_test.json").read_text())["accuracy"] == \
        json.loads((run / "accuracy_test.json").read_text())["accuracy"]  # the same network, the same images
    assert files_of(run) == before


def test_simulate_writes_a_second_result_beside_the_first(tiny_run, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    for expected in ("contention", "contention-2"):
        assert main(["simulate", str(run), "--trace", "contention", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["wrote"] == [str(run / "simulate" / f"{expected}.{s}") for s in ("json", "png")]
    assert main(["simulate", str(run), "--trace", "contention", "--out", str(tmp_path / "elsewhere"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["wrote"][0] == str(tmp_path / "elsewhere" / "contention.json")
    assert sorted(p.name for p in (run / "simulate").iterdir()) == ["contention-2.json", "contention-2.png",
                                                                    "contention.json", "contention.png"]


def test_budgeted_writes_a_second_folder_beside_the_first(tiny_run, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    for expected in ("budgeted", "budgeted-2"):
        assert main(["budgeted", str(run), "--budgets", "3"]) == 0
        assert (run / expected / "budgeted.json").is_file()
    assert not (run / "budgeted-3").exists()
