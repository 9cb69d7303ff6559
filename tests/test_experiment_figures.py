"""The experiments' figures: the seeds' spread where a network has several, and a caption that says what was trained."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from dnnet.experiments.figure_caption import experiment_caption
from dnnet.experiments.seed_spread import SpreadPoint, draw_spread, spread_by
from dnnet.train.run_directory import CONFIG_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_spread_is_the_mean_and_range_per_x_sorted_by_x():
    rows = [{"w": 2, "acc": 0.5}, {"w": 1, "acc": 0.25}, {"w": 2, "acc": 0.75}, {"w": 1, "acc": 0.5}, {"w": 3, "acc": 0.9}]
    assert spread_by(rows, "w", "acc") == [SpreadPoint(1, 0.375, 0.25, 0.5, 2), SpreadPoint(2, 0.625, 0.5, 0.75, 2),
                                           SpreadPoint(3, 0.9, 0.9, 0.9, 1)]


@pytest.mark.parametrize("points, band, bar", [
    ([SpreadPoint(1, 0.5, 0.4, 0.6, 2), SpreadPoint(2, 0.7, 0.6, 0.8, 2)], 1, 0),
    ([SpreadPoint(1, 0.5, 0.4, 0.6, 2)], 0, 1),
    ([SpreadPoint(1, 0.5, 0.5, 0.5, 1), SpreadPoint(2, 0.7, 0.7, 0.7, 1)], 0, 0)])
def test_several_seeds_draw_their_range_and_say_so(points, band, bar):
    ax = Figure().subplots()
    draw_spread(ax, points, "o-", "red", "DNNet")
    assert len(ax.collections) == band + bar
    (line,) = ax.lines
    assert list(line.get_ydata()) == pytest.approx([100 * p.mean for p in points])
    seeds = max(p.seeds for p in points)
    assert line.get_label() == ("DNNet" if seeds == 1 else f"DNNet (mean of 2 seeds, {'band' if band else 'bar'}: their range)")


def _run(tmp_path: Path, name: str, data: str, epochs: int, device: str | None) -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir()
    record = {"data": {"name": data}, "train_config": {"epochs": epochs},
              "provenance": {"cuda_device": device, "torch_threads": 1}}
    (run_dir / CONFIG_FILE).write_text(json.dumps(record))
    return run_dir


def test_caption_names_each_different_training_once_and_the_seeds(tmp_path):
    runs = [_run(tmp_path, "a", "cifar10-jpg", 7, None), _run(tmp_path, "b", "cifar10-jpg", 7, None),
            _run(tmp_path, "c", "cifar10-jpg", 7, "NVIDIA H200"), tmp_path / "missing"]
    assert experiment_caption(runs, [1, 0]) == "cifar10-jpg, 7 epochs, CPU, 1 thread(s); cifar10-jpg, 7 epochs, NVIDIA H200; seeds 0, 1"
    assert experiment_caption(runs[:1], [0]) == "cifar10-jpg, 7 epochs, CPU, 1 thread(s); seed 0"


@pytest.mark.slow
def test_committed_figures_are_redrawn_from_their_files(tmp_path):
    """bench/redraw_experiment_figures.py draws fig4, fig5 and lambda from committed JSON, older ones with a given caption."""
    folder = tmp_path / "docs_folder"
    shutil.copytree(ROOT / "docs" / "experiments_cpu_paper_recipe", folder,
                    ignore=lambda _, names: [n for n in names if not n.endswith(".json")])
    for path in folder.glob("*.json"):  # files from before the caption existed
        path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != "caption"}))
    second_seed = tmp_path / "seed_1"
    second_seed.mkdir()
    record = json.loads((folder / "fig4.json").read_text())
    (second_seed / "fig4.json").write_text(json.dumps(record | {"seed": 1}))
    script = [sys.executable, str(ROOT / "bench" / "redraw_experiment_figures.py"), str(folder)]
    refused = subprocess.run(script, capture_output=True, text=True)
    assert refused.returncode != 0 and "give --caption" in refused.stderr
    subprocess.run([*script, "--caption", "cifar10-jpg, 7 epochs, CPU", "--more-seeds", str(second_seed)], check=True,
                   capture_output=True)
    for name in ("fig3", "fig4", "fig5", "lambda"):
        assert (folder / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_files_own_caption_names_the_seeds_the_figure_draws():
    sys.path.insert(0, str(ROOT / "bench"))
    from redraw_experiment_figures import caption_of

    record = {"experiment": "fig4", "caption": "cifar10-jpg, 7 epochs, CPU, 1 thread(s); seed 0"}
    assert caption_of(record, None, [0, 1]) == "cifar10-jpg, 7 epochs, CPU, 1 thread(s); seeds 0, 1"
    assert caption_of({"experiment": "fig4"}, "digits, 1 epoch", [0]) == "digits, 1 epoch; seed 0"


def test_a_comparison_of_runs_names_their_training_once_when_it_is_the_same(tmp_path):
    from dnnet.reporting.run_caption import runs_caption

    same = {"DNNet": _run(tmp_path, "a", "cifar10-jpg", 7, None), "depth-only": _run(tmp_path, "b", "cifar10-jpg", 7, None)}
    assert runs_caption(same) == "cifar10-jpg, 7 epochs, CPU, 1 thread(s)"
    other = {**same, "depth-only": _run(tmp_path, "c", "cifar10-jpg", 30, "NVIDIA H200")}
    assert runs_caption(other) == "DNNet: cifar10-jpg, 7 epochs, CPU, 1 thread(s); depth-only: cifar10-jpg, 30 epochs, NVIDIA H200"
