"""What a run's report.html shows beyond accuracy: the deployment results the run directory holds, one colour scale
for its validation and test heatmaps, and text that stays readable on every cell colour."""

import json
import re
import shutil
import subprocess

import pytest
import torch
from matplotlib import colormaps

from dnnet.cli.main import main
from dnnet.reporting import heatmaps
from dnnet.reporting.heatmaps import plot_accuracy_grid, text_colour_on


@pytest.fixture(scope="module")
def deployed_run(tmp_path_factory, shared_run):
    run = shared_run("tiny", tmp_path_factory.mktemp("report") / "run")
    for argv in (["latency", str(run), "--repeats", "1"], ["anytime", str(run), "--images", "20"],
                 ["simulate", str(run), "--trace", "contention"], ["report", str(run)]):
        assert main(argv) == 0
    return run


def test_the_report_has_a_section_for_each_deployment_result(deployed_run):
    page = (deployed_run / "report.html").read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == ["Accuracy and resources", "Anytime path", "Latency (eager)", "Anytime serving", "Changing budgets: trace contention",
                      "Next steps", "Files"]
    assert 'alt="latency_eager.png' in page or "latency_eager.png" in page
    assert "simulate/contention.png" in page and "data:image/png;base64," in page


def test_the_report_draws_the_default_path_against_the_greedy_one_and_the_front(deployed_run):
    from dnnet.anytime.path_area import front_area, path_area
    from dnnet.anytime.path_search import area_path, greedy_path
    from dnnet.config import cell_name
    from dnnet.evaluation import read_accuracy_grid
    from dnnet.train.run_directory import load_trained_model

    page = (deployed_run / "report.html").read_text()
    config = load_trained_model(deployed_run)[0].config
    val, test = read_accuracy_grid(deployed_run, "val"), read_accuracy_grid(deployed_run, "test")
    area, greedy = area_path(config, val), greedy_path(config, val)
    assert (deployed_run / "anytime_path.png").read_bytes()[:4] == b"\x89PNG"
    default_line = re.search(r"<li>Default path, area: (.*?)</li>", page).group(1)
    assert default_line.startswith(cell_name(*area[0])) and f"{len(area)} cells" in default_line
    assert f"log-MAC axis {100 * path_area(config, test, area):.2f}%" in default_line
    assert f"best cell per budget: {100 * front_area(config, val, test):.2f}%" in default_line
    assert f"<li>Greedy path, greedy: {cell_name(*greedy[0])}" in page


def test_the_report_explains_cells_links_its_files_and_folds_the_config(deployed_run):
    page = (deployed_run / "report.html").read_text()
    assert "written DEPTHxWIDTH" in page
    for name in ("config.json", "metrics.csv", "accuracy_val.json", "accuracy_test.csv", "latency_eager.json", "anytime.json"):
        assert f'<a href="{name}">{name}</a>' in page
    assert "<details><summary>Run configuration and provenance</summary><pre>" in page


@pytest.mark.parametrize("name,text", [("anytime.json", "{ not json"), ("anytime.json", '{"path": [], "served": {}}'),
                                       ("anytime.json", '{"path": ["1x1"], "served": {"x": {}}}'),
                                       ("latency_eager.json", '{"milliseconds": []}'),
                                       ("latency_eager.json", '{"milliseconds": ["a", "b"]}')])
def test_a_damaged_deployment_file_is_named_and_the_report_still_written(deployed_run, name, text):
    kept = (deployed_run / name).read_text()
    (deployed_run / name).write_text(text)
    try:
        assert main(["report", str(deployed_run)]) == 0
        assert f"{name} could not be read." in (deployed_run / "report.html").read_text()
    finally:
        (deployed_run / name).write_text(kept)


def test_validation_and_test_heatmaps_share_one_colour_scale(tmp_path, monkeypatch):
    val, test = torch.tensor([[0.2, 0.4], [0.5, 0.6]]), torch.tensor([[0.1, 0.3], [0.5, 0.9]])
    (tmp_path / "accuracy_test.json").write_text(json.dumps({"accuracy": test.tolist()}))
    seen = {}
    monkeypatch.setattr(heatmaps, "plot_grid_heatmap", lambda values, *args, limits=None, **kw: seen.setdefault("limits", limits))
    plot_accuracy_grid(val, tmp_path, "val")
    assert seen["limits"] == pytest.approx((10.0, 90.0))  # the range of both grids, not of the validation grid alone


@pytest.mark.parametrize("position,colour", [(0.0, "white"), (0.3, "white"), (0.75, "black"), (1.0, "black")])
def test_cell_numbers_are_dark_on_light_colours_and_light_on_dark_ones(position, colour):
    assert text_colour_on(colormaps["viridis"](position)) == colour


def test_a_figure_of_a_run_says_its_data_epochs_and_hardware(deployed_run, tmp_path):
    from dnnet.reporting.run_caption import run_caption

    assert run_caption(deployed_run) == f"digits, 1 epoch, CPU, {torch.get_num_threads()} thread(s)"
    assert run_caption(tmp_path) == ""  # no config.json: no caption, no error


IMAGE_CHECK = """<script>window.addEventListener("load", () => {
  const broken = [...document.images].filter(image => !image.complete || image.naturalWidth === 0);
  document.body.setAttribute("data-images-loaded", `${document.images.length - broken.length}/${document.images.length}`);
});</script>"""


def headless_browser() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome", "chrome"))), None)


@pytest.mark.skipif(headless_browser() is None, reason="no Chromium or Chrome installed")
def test_the_report_renders_in_a_real_browser_away_from_its_run_with_every_image(deployed_run, tmp_path):
    """Copied alone to another folder, the page loads every figure in a headless browser and renders to a PNG."""
    page = tmp_path / "elsewhere" / "report.html"
    page.parent.mkdir()
    page.write_text((deployed_run / "report.html").read_text().replace("</body>", IMAGE_CHECK + "</body>"))
    browser = [headless_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    images = len(re.findall(r"<img ", (deployed_run / "report.html").read_text()))
    assert images >= 6 and f'data-images-loaded="{images}/{images}"' in dom
    screenshot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1200,3000", f"--screenshot={screenshot}", page.as_uri()], capture_output=True,
                   timeout=120, check=True)
    assert screenshot.read_bytes()[:4] == b"\x89PNG" and screenshot.stat().st_size > 50_000  # a page, not a blank


def test_the_report_ends_with_the_commands_for_this_run_and_its_chosen_cell(deployed_run):
    import re

    page = (deployed_run / "report.html").read_text()
    steps = page[page.index("<h2>Next steps</h2>"):page.index("<h2>Files</h2>")]
    chosen = re.search(r"Best cell under [^:]+: (\d+x\d+),", page).group(1)
    assert f"dnnet export {deployed_run} --cell {chosen} --format onnx" in steps
    assert f"dnnet bundle {deployed_run} --out bundle/" in steps and f"dnnet pretrained {deployed_run}" in steps
    assert "trained 1 epochs" not in steps  # dnnet_resnet8_g4 has no recommended schedule to fall short of


@pytest.mark.parametrize("preset, epochs, warned", [("dnnet_resnet20_g8", 7, True), ("dnnet_resnet20_g8", 30, False),
                                                    ("dnnet_resnet32_g22", 24, True), ("dnnet_resnet8_g4", 1, False)])
def test_a_short_run_is_said_to_be_short(tmp_path, preset, epochs, warned):
    from dnnet.reporting.next_steps import next_steps_section

    lines = next_steps_section(tmp_path / "my run", preset, epochs, None, "25%").lines
    assert (f"This run trained {epochs} epochs; {preset}'s numbers in the docs come from" in lines[0]) == warned
    assert any(f"dnnet select '{tmp_path / 'my run'}' --macs 25%" in line for line in lines)  # a path, quoted for a shell
    assert any("--cell DxW" in line for line in lines)  # no cell chosen: the placeholder


def test_the_largest_feature_map_is_one_line_per_width_and_the_resource_maps_carry_their_numbers(deployed_run):
    page = (deployed_run / "report.html").read_text()
    assert "Resources: largest feature map, per width" in page and "Resources: MACs needed" in page
    from dnnet.reporting.run_report import ANNOTATED_CELLS, RESOURCE_MAPS

    assert [field for field, *_ in RESOURCE_MAPS] == ["macs", "params"] and ANNOTATED_CELLS >= 16 * 22
