"""The paper's experiments (`dnnet experiment`): protocols, their training runs, reuse of finished runs, figures and report."""

import csv
import json
import re

import pytest

from dnnet.accounting import cell_resources, grid_resources
from dnnet.cli.main import main
from dnnet.experiments import get_protocol, macs_budget
from dnnet.models import create_model
from dnnet.train import TrainConfig
from dnnet.train.train_config import PAPER_RECIPE


def test_cpu_protocol_trains_every_baseline_with_matched_widths():
    runs = get_protocol("cpu").training_runs()
    assert set(runs) == {"dnnet_s0", "dnnet_s1", "anytime_s0", "anytime_s1", "plain_s0", "plain_g1_s0", "plain_g2_s0",
                         "plain_g3_s0", "plain_g4_s0", "sandwich_s0", "dnnet_macs_s0", "dnnet_distill_s0",
                         "dnnet_paper_s0"}
    assert {r.preset for r in runs.values()} == {"dnnet_resnet20_g8", "resnet20", "resnet20_anytime"}
    assert runs["sandwich_s0"].objective.kind == "sandwich" and runs["sandwich_s0"].groups == 6
    assert runs["dnnet_macs_s0"].objective.weighting == "macs" and runs["dnnet_distill_s0"].objective.distill_weight == 0.5
    assert runs["dnnet_paper_s0"] == runs["dnnet_s0"].replaced(**PAPER_RECIPE)
    assert all(r.optimiser.epochs == 7 and r.dataset.data == "cifar10" and r.dataset.data_dir == "data" for r in runs.values())
    # the plain comparators need about the DNNet's MACs, as ResNet-32 16/32/64 against 22/44/88 in the paper
    dnnet = create_model("dnnet_resnet20_g8").config
    plain = create_model("resnet20", groups=6).config
    ratio = cell_resources(plain, 1, 6).macs / cell_resources(dnnet, dnnet.num_exits, 8).macs
    assert 0.95 < ratio < 1.05


def test_paper_protocol_is_the_papers_networks_and_schedule():
    protocol = get_protocol("paper")
    runs = protocol.training_runs()
    assert runs["dnnet_s0"].preset == "dnnet_resnet32_g22" and runs["anytime_s0"].preset == "resnet32_anytime"
    assert runs["plain_s0"].preset == "resnet32" and runs["plain_s0"].groups is None  # 16/32/64
    assert {runs[f"plain_g{g}_s0"].groups for g in (4, 8, 12)} == {4, 8, 12}
    assert all(r.optimiser.epochs == 160 and r.optimiser.schedule == "step" and r.dataset.data == "cifar10" for r in runs.values())
    assert macs_budget(protocol) == pytest.approx(24e6, rel=1e-12)


def test_unknown_protocol_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown protocol 'gpu'"):
        get_protocol("gpu")


@pytest.fixture(scope="module")
def cpu_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiments") / "cpu"
    args = ["experiment", "all", "--protocol", "cpu", "--data", "digits", "--epochs", "1", "--seed", "0",
            "--out", str(root), "--quiet"]
    assert main(args) == 0
    return root


@pytest.mark.slow
def test_all_experiments_write_table_figure_and_report(cpu_root):
    for name in ("fig3", "fig4", "fig5", "lambda"):
        record = json.loads((cpu_root / "experiments" / f"{name}.json").read_text())
        assert record["protocol"] == "cpu" and record["provenance"]["commit"] and record["rows"]
        assert (cpu_root / "experiments" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        with open(cpu_root / "experiments" / f"{name}.csv") as handle:
            assert len(list(csv.DictReader(handle))) == len(record["rows"])
    assert json.loads((cpu_root / "experiments" / "suite_time.json").read_text())["rows"][0]["wall_seconds"] > 0
    page = (cpu_root / "report.html").read_text()
    assert re.findall(r'data-file="experiments/(\w+).png"', page) == ["fig3", "fig4", "fig5", "lambda"]
    assert page.count('<img src="data:image/png;base64,') == 4  # embedded: the page shows them wherever it goes


def test_fig4_covers_every_method_and_width(cpu_root):
    rows = json.loads((cpu_root / "experiments" / "fig4.json").read_text())["rows"]
    widths = {}
    for row in rows:
        widths.setdefault(row["method"], []).append(row["width"])
    assert widths["DNNet"] == list(range(1, 9))
    for method in ("brute-force slicing", "fine-tuning", "slimmable (sandwich)"):
        assert widths[method] == list(range(1, 7))
    assert sorted(widths["full training"]) == [1, 2, 3, 4, 6]
    assert widths["depth-only anytime (full)"] == [6]
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows)


def test_fig5_keeps_only_feasible_cells_and_picks_the_best_on_validation(cpu_root):
    record = json.loads((cpu_root / "experiments" / "fig5.json").read_text())
    budget = record["macs_budget"]
    dnnet = create_model("dnnet_resnet20_g8", image_size=16).config  # digits are 16x16
    paper_full = cell_resources(create_model("dnnet_resnet32_g22").config, 16, 22).macs
    assert budget == pytest.approx(24e6 * grid_resources(dnnet)[-1].macs / paper_full, rel=1e-12)
    rows = record["rows"]
    assert rows and all(r["macs"] <= budget for r in rows)
    assert {r["width"] for r in rows if r["network"] == "depth-only"} == {6}  # depth-only: full width only
    for network in ("DNNet", "depth-only"):
        mine = [r for r in rows if r["network"] == network]
        best = max(mine, key=lambda r: (r["val_accuracy"], -r["macs"]))
        assert record["best"][f"{network}_s0"]["cell"] == f"{best['depth']}x{best['width']}"
    assert record["best"]["depth-only_s0_with_feature_map"] is None  # every exit keeps the full first feature map


def test_runs_are_reused_and_other_settings_refused(cpu_root, capsys):
    args = ["experiment", "fig5", "--protocol", "cpu", "--data", "digits", "--seeds", "0", "--out", str(cpu_root), "--quiet"]
    assert main([*args, "--epochs", "1"]) == 0
    assert "training" not in capsys.readouterr().out
    assert main([*args, "--epochs", "2"]) == 2
    assert "holds a run with other settings" in capsys.readouterr().err


def test_report_command_gathers_an_experiment_root(cpu_root, capsys):
    (cpu_root / "report.html").unlink()
    assert main(["report", str(cpu_root)]) == 0
    assert (cpu_root / "report.html").is_file()


@pytest.mark.slow
def test_paper_protocol_runs_on_cpu_with_a_tiny_epoch_count(tmp_path):
    root = tmp_path / "paper"
    for name in ("fig3", "fig5"):
        assert main(["experiment", name, "--protocol", "paper", "--data", "digits", "--epochs", "1", "--out", str(root),
                     "--quiet"]) == 0
    record = json.loads((root / "experiments" / "fig5.json").read_text())
    assert {r["network"] for r in record["rows"]} <= {"DNNet", "depth-only"}
    fig3 = json.loads((root / "experiments" / "fig3.json").read_text())
    assert fig3["macs_budget"] == pytest.approx(24e6)
    assert fig3["deepest_cell_within_budget"]["resnet32_anytime"] == "5x16"  # the paper's D5


@pytest.mark.parametrize("protocol", ["cpu", "paper"])
def test_the_experiments_need_every_training_run_of_the_protocol(protocol):
    from dnnet.experiments import EXPERIMENTS
    from dnnet.experiments.suite import runs_needed

    chosen = get_protocol(protocol)
    needed = {run for name in EXPERIMENTS for run in runs_needed(name, chosen)}
    assert needed == set(chosen.training_runs())


@pytest.mark.slow
def test_parallel_jobs_train_every_run_before_the_experiment_reads_them(tmp_path, capsys):
    root = tmp_path / "cpu"
    args = ["experiment", "lambda", "--protocol", "cpu", "--data", "digits", "--epochs", "1", "--seed", "0",
            "--out", str(root), "--jobs", "2", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "training 4 runs, 2 at a time: dnnet_s0, dnnet_macs_s0, dnnet_distill_s0, dnnet_paper_s0" in printed
    assert not re.search(r"^training dnnet", printed, re.MULTILINE)  # nothing left for the experiment to train
    for run in ("dnnet_s0", "dnnet_macs_s0", "dnnet_distill_s0", "dnnet_paper_s0"):
        assert (root / "runs" / run / "accuracy_test.json").is_file() and (root / "runs" / f"{run}.log").is_file()
    assert len(json.loads((root / "experiments" / "lambda.json").read_text())["rows"]) > 0


def test_a_run_saved_before_new_settings_existed_is_still_the_protocols(tmp_path):
    """A config.json written before a TrainConfig field was added lacks that key; the store compares configs, not dicts."""
    from dnnet.experiments import RunStore
    from dnnet.train.run_directory import CONFIG_FILE, mark_finished

    store = RunStore(tmp_path, get_protocol("cpu").with_overrides(epochs=1, data="digits"), show_progress=False)
    name = next(iter(store.configs))
    saved = store.config(name).to_dict()
    del saved["warmup_epochs"], saved["gradient_equilibrium"]
    run_dir = store.run_dir(name)
    run_dir.mkdir(parents=True)
    (run_dir / CONFIG_FILE).write_text(json.dumps({"train_config": saved}))
    mark_finished(run_dir, {})
    assert store.ensure(name) == run_dir  # reused, not refused
    (run_dir / CONFIG_FILE).write_text(json.dumps({"train_config": dict(saved, epochs=2)}))
    with pytest.raises(ValueError, match="holds a run with other settings"):
        store.ensure(name)


@pytest.mark.parametrize("name, missing, changed, reused", [
    ("anytime_s0", ["last_exit_gradient"], {}, True),  # missing: read back as "auxiliary", as before the setting existed
    ("plain_s0", ["last_exit_gradient"], {"auxiliary_gradient": 0.01, "data_dir": None}, True),
    ("sandwich_s0", ["last_exit_gradient"], {"auxiliary_gradient": 0.01}, True),
    ("dnnet_s0", ["last_exit_gradient"], {}, False),
    ("anytime_s0", [], {"auxiliary_gradient": 0.01}, False),  # its 10 exits' factor: read
    ("anytime_s0", [], {"auxiliary_gradient": 1 / 9}, True),  # the value the default's rule gives its 10 exits
    ("plain_s0", [], {"epochs": 2}, False)])
def test_a_run_saved_with_other_values_of_settings_it_never_reads_is_reused(tmp_path, name, missing, changed, reused):
    """last_exit_gradient acts on the narrower widths at the last exit, auxiliary_gradient on the cells besides the full
    network, data_dir on named data sets: a run that never reads them is the protocol's whatever they were."""
    from dnnet.experiments import RunStore
    from dnnet.train.run_directory import CONFIG_FILE, mark_finished

    protocol = get_protocol("cpu").with_overrides(epochs=1, data="../shared/data/cifar10-jpg.tar.gz")
    store = RunStore(tmp_path, protocol, show_progress=False)
    config = store.config(name)
    saved = {key: value for key, value in config.to_dict().items() if key not in missing} | changed
    run_dir = store.run_dir(name)
    run_dir.mkdir(parents=True)
    net_config = create_model(config.preset, **({} if config.groups is None else {"groups": config.groups})).config
    (run_dir / CONFIG_FILE).write_text(json.dumps({"train_config": saved, "net_config": net_config.to_dict()}))
    mark_finished(run_dir, {})
    if reused:
        assert store.ensure(name) == run_dir
    else:
        with pytest.raises(ValueError, match="holds a run with other settings"):
            store.ensure(name)


@pytest.mark.parametrize("preset, saved, wanted, same", [
    ("dnnet_resnet20_g8", {"last_exit_gradient": 2 / 7}, {}, True),  # the rule's value given by hand
    ("dnnet_resnet20_g8", {"last_exit_gradient": "auxiliary"}, {"last_exit_gradient": 1 / 79}, True),
    ("dnnet_resnet20_g8", {"last_exit_gradient": 0.3}, {}, False),
    ("dnnet_resnet20_g8", {"auxiliary_gradient": 1 / 79}, {}, True),
    ("resnet20", {"weighting": "uniform", "last_exit_gradient": "auxiliary"}, {"weighting": "uniform"}, False),  # dense, every width
    ("resnet20", {"last_exit_gradient": "auxiliary", "auxiliary_gradient": 0.5}, {}, True),  # its full width only
])
def test_configs_are_compared_as_their_runs_train(preset, saved, wanted, same):
    from dnnet.train.objective import trains_the_same

    model_config = create_model(preset).config
    saved, wanted = TrainConfig.from_flat(preset=preset, **saved), TrainConfig.from_flat(preset=preset, **wanted)
    assert trains_the_same(saved, wanted, model_config) is same


def test_a_run_trained_from_another_folder_with_a_relative_path_is_found(tmp_path, monkeypatch):
    from dnnet.experiments import RunStore
    from dnnet.train.run_directory import CONFIG_FILE, mark_finished

    archive = tmp_path / "data" / "images.tar.gz"
    store = RunStore(tmp_path / "root", get_protocol("cpu").with_overrides(epochs=1, data=str(archive)), show_progress=False)
    config = store.config("plain_s0")
    saved = config.to_dict() | {"data": "../data/images.tar.gz"}  # as typed in tmp_path/somewhere, the folder it trained in
    run_dir = store.run_dir("plain_s0")
    run_dir.mkdir(parents=True)
    net_config = create_model(config.preset, groups=config.groups).config
    record = {"train_config": saved, "net_config": net_config.to_dict(), "data": {"source": str(archive)}}
    (run_dir / CONFIG_FILE).write_text(json.dumps(record))
    mark_finished(run_dir, {})
    monkeypatch.chdir(tmp_path / "root")  # here the relative path would point elsewhere
    assert store.ensure("plain_s0").resolve() == run_dir.resolve()


def test_runs_that_fail_on_the_users_data_are_one_line(tmp_path):
    """A worker's UserError (here: data that does not exist) reaches the caller as one UserError, not a RuntimeError."""
    from dnnet.errors import UserError
    from dnnet.experiments.parallel_runs import train_in_parallel

    protocol = get_protocol("cpu").with_overrides(data=str(tmp_path / "missing.tar.gz"), epochs=1)
    with pytest.raises(UserError) as caught:
        train_in_parallel(tmp_path / "root", protocol, ["plain_s0"], jobs=1)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("1 of 1 runs failed: plain_s0: data ")
    assert "is neither a named data set" in message and "(log: " in message


def test_download_refuses_a_data_set_it_cannot_fetch(capsys):
    assert main(["experiment", "fig3", "--data", "digits", "--download", "--out", "unused"]) == 2
    assert "--download fetches cifar10, cifar100 or svhn, not 'digits'" in capsys.readouterr().err
