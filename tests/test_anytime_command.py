"""`dnnet anytime`: test images served one at a time along the chosen path, with an early stop chosen on validation."""

import json
import os
from pathlib import Path

import pytest
import torch

from dnnet.cli.main import main
from dnnet.data import load_data
from dnnet.data.augment import normalize
from dnnet.deploy.request_images import request_images
from dnnet.train.run_directory import load_trained_model, train_config_of


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("anytime") / "run")


def test_anytime_command_serves_test_images_with_an_early_stop_chosen_on_validation(trained_run, capsys):
    run = trained_run
    capsys.readouterr()
    assert main(["anytime", str(run), "--images", "30", "--deadline-ms", "1000"]) == 0
    assert "early stop at confidence" in capsys.readouterr().out
    record = json.loads((run / "anytime.json").read_text())
    whole, early, deadline = record["served"].values()
    last = record["path"][-1]
    assert record["path"][0] == "1x1" and last == "4x4"
    assert whole["requests"] == 30 and whole["stopped_by"] == {"path end": 30} and whole["cells"] == {last: 30}
    assert whole["mean_steps"] == len(record["path"])
    assert sum(early["stopped_by"].values()) == 30 and early["mean_steps"] <= whole["mean_steps"]
    assert set(early["stopped_by"]) <= {"path end", "confidence"}
    assert 0.5 <= record["threshold"] <= 1.0 and deadline["stopped_by"].get("deadline", 0) == 0  # 1 s is never reached

    model, trained = load_trained_model(run)  # the whole path's answer is the full network's
    config = train_config_of(trained)
    test = load_data(config.dataset.data, config.dataset.data_dir, None, config.dataset.val_count, config.seed).test
    chosen = request_images(30, len(test), seed=0)
    with torch.no_grad():
        logits = model(normalize(test.images[chosen], trained["data"]["mean"], trained["data"]["std"]), 4, 4)
    assert whole["accuracy"] == (logits.argmax(-1) == test.labels[chosen]).sum().item() / 30


def test_every_schedule_serves_the_same_answers(trained_run, capsys):
    served = {}
    for ahead in ["none", "all"]:
        assert main(["anytime", str(trained_run), "--images", "20", "--compute-ahead", ahead, "--json"]) == 0
        record = json.loads(Path(json.loads(capsys.readouterr().out)["wrote"]).read_text())
        assert record["settings"]["compute_ahead"] == ahead
        served[ahead] = {name: (summary["accuracy"], summary["cells"]) for name, summary in record["served"].items()}
    assert served["none"] == served["all"]


def test_the_default_path_is_the_best_by_area_and_another_can_be_named(trained_run, capsys):
    from dnnet.anytime.path_area import path_area
    from dnnet.anytime.path_search import area_path, greedy_path
    from dnnet.config import cell_name
    from dnnet.evaluation import read_accuracy_grid

    config = load_trained_model(trained_run)[0].config
    val, test = read_accuracy_grid(trained_run, "val"), read_accuracy_grid(trained_run, "test")
    assert main(["anytime", str(trained_run), "--images", "5", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == [cell_name(*c) for c in area_path(config, val)]
    choice = record["path_choice"]
    assert choice["rule"] == "area" and choice["cells"] == record["path"] and choice["objective"] == "area"
    assert choice["area_val"] == path_area(config, val, area_path(config, val))
    assert choice["area_test"] == path_area(config, test, area_path(config, val))
    assert choice["front_area_val"] >= choice["area_val"]
    assert main(["anytime", str(trained_run), "--images", "5", "--path", "greedy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == [cell_name(*c) for c in greedy_path(config, val)]
    assert main(["anytime", str(trained_run), "--images", "5", "--path", "1x1,2x1,2x3,4x3", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == ["1x1", "2x1", "2x3", "4x3"] and record["path_choice"]["rule"] == "explicit"
    assert set(record["served"]["whole path"]["cells"]) == {"4x3"}


def test_out_writes_the_result_elsewhere_and_leaves_the_runs_file(trained_run, tmp_path, capsys):
    before = (trained_run / "anytime.json").read_bytes() if (trained_run / "anytime.json").exists() else None
    out = tmp_path / "served" / "greedy.json"
    assert main(["anytime", str(trained_run), "--images", "3", "--path", "greedy", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["path_choice"]["rule"] == "greedy" and f"wrote {out}" in capsys.readouterr().out
    after = (trained_run / "anytime.json").read_bytes() if (trained_run / "anytime.json").exists() else None
    assert after == before


def test_a_second_result_goes_beside_the_first_and_the_report_shows_the_newest(tmp_path, shared_run, capsys):
    from dnnet.reporting.deployment_sections import deployment_sections

    run = shared_run("tiny", tmp_path / "run")
    for number, images in ((1, "3"), (2, "4"), (3, "5")):
        assert main(["anytime", str(run), "--images", images, "--json"]) == 0
        wrote = json.loads(capsys.readouterr().out)["wrote"]
        assert wrote == str(run / ("anytime.json" if number == 1 else f"anytime-{number}.json"))
    first = json.loads((run / "anytime.json").read_text())
    assert first["settings"]["images"] == 3  # never written over
    section = next(s for s in deployment_sections(run, "dnnet_resnet8_g4") if s.title == "Anytime serving")
    assert "over 5 images" in " ".join(section.lines)


@pytest.mark.parametrize("path, message", [("1x1,3x3", "not a step"), ("fastest", "a path is auto, area"), ("1x1,9x1", "depth")])
def test_a_bad_path_is_a_clear_error(trained_run, capsys, path, message):
    try:
        code = main(["anytime", str(trained_run), "--images", "5", "--path", path])
    except SystemExit as usage_error:  # misspelt: argparse's usage error
        code = usage_error.code
    assert code == 2 and message in capsys.readouterr().err


# a trained run, so that only the setting's own check can refuse it (a missing run also exits 2)
CORES = f"--threads must be between 1 and this machine's {os.cpu_count()} cores, got"


@pytest.mark.parametrize("flags, message", [(["--images", "0"], "--images must be at least 1, got 0"),
                                            (["--threads", "0"], f"{CORES} 0"),
                                            (["--threads", "100000"], f"{CORES} 100000"),  # it used to crash the process
                                            (["--deadline-ms", "-1"], "--deadline-ms must be a positive number, got -1.0"),
                                            (["--deadline-ms", "nan"], "--deadline-ms must be a positive number, got nan"),
                                            (["--tolerance", "nan"], "--tolerance must be in [0, 1], got nan")])
def test_anytime_command_refuses_bad_settings(trained_run, capsys, flags, message):
    capsys.readouterr()
    assert main(["anytime", str(trained_run), *flags]) == 2
    assert capsys.readouterr().err == f"dnnet anytime: error: {message}\n"
