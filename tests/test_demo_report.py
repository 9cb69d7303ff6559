"""`dnnet demo` end to end, and `dnnet report` with its errors."""

import base64
import re

import pytest

from dnnet.cli.main import main


@pytest.mark.slow
def test_demo_runs_end_to_end_and_reuses_its_run(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--preset", "dnnet_resnet8_g4", "--epochs", "2", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "[4/4] report" in printed and "best cell under" in printed
    page = (out / "report.html").read_text()
    images = dict((name, data) for data, name in re.findall(r'<img src="data:image/png;base64,([^"]+)" data-file="([^"]+)"', page))
    assert {"accuracy_val.png", "accuracy_vs_macs.png", "training_curves.png", "resources_macs.png"} <= set(images)
    for name, data in images.items():  # each figure is inside the page: a copied report shows it
        assert base64.b64decode(data) == (out / name).read_bytes() and (out / name).read_bytes()[:4] == b"\x89PNG"
    assert '<img src="' not in page.replace('<img src="data:image/png;base64,', "")
    assert (out / "resources.csv").read_text().count("\n") == 1 + 16
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"[1/4] reusing the finished run of 2 epochs in {out}\n" in printed and "training" not in printed
    assert main([*args[:-2], "3", "--quiet"]) == 0  # another epoch count is said before anything, not silently dropped
    printed = capsys.readouterr().out
    assert printed.startswith(f"[1/4] reusing the finished run of 2 epochs in {out}; --epochs 3 does not train it again")


@pytest.mark.slow
def test_report_command_and_its_errors(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--macs", "50%"]) == 0
    assert "report.html" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a usage error: a share is at most 100%
        main(["report", str(out), "--macs", "200%"])
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert main(["demo", "--out", str(out), "--preset", "dnnet_resnet20_g8", "--epochs", "1", "--quiet"]) == 2
    assert "holds a run of dnnet_resnet8_g4" in capsys.readouterr().err


def test_demo_budget_that_no_cell_meets_is_a_clear_error(tmp_path, capsys):
    # digits are 16x16, so the full dnnet_resnet8_g4 needs 142,888 MACs and 1x1 6,912 + 10 for its classifier
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--quiet",
                 "--macs", "0.1%"]) == 4  # no cell fits: exit 4, a budget to relax
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no cell fits the budget of 143 MACs; the cheapest, 1x1, needs 6.92K" in err[0]


def test_demo_finishes_a_run_killed_between_its_two_grids(tmp_path, capsys, monkeypatch):
    import pytest

    import dnnet.train.run as run_module
    from dnnet.cli.demo_command import DEMO
    from dnnet.train import TrainConfig, train

    real_write = run_module.write_accuracy_grid

    def killed_before_test(accuracy, run_dir, split, meta):
        if split == "test":
            raise KeyboardInterrupt
        return real_write(accuracy, run_dir, split, meta)

    out = tmp_path / "demo"
    monkeypatch.setattr(run_module, "write_accuracy_grid", killed_before_test)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig.from_flat(**{**DEMO.to_dict(), "preset": "dnnet_resnet8_g4", "epochs": 1}), out, show_progress=False)
    monkeypatch.undo()
    assert (out / "accuracy_val.json").is_file() and not (out / "accuracy_test.json").exists()
    assert main(["demo", "--out", str(out), "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--quiet"]) == 0
    assert "reusing" not in capsys.readouterr().out
    assert (out / "accuracy_test.json").is_file()
