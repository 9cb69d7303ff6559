"""report.html of a run: the figures, the chosen cell and the run's config, on one page."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from dnnet.accounting import grid_resources
from dnnet.anytime.path_choice import choose_path, describe_path, path_record
from dnnet.config import NetConfig, cell_name
from dnnet.evaluation import read_accuracy_grid
from dnnet.reporting.anytime_path_figure import Walk, plot_anytime_paths
from dnnet.reporting.deployment_sections import Section, deployment_sections
from dnnet.reporting.embedded_image import embedded_img
from dnnet.reporting.heatmaps import plot_accuracy_grid, plot_grid_heatmap
from dnnet.reporting.next_steps import next_steps_section
from dnnet.reporting.run_caption import run_caption
from dnnet.reporting.run_figures import plot_accuracy_vs_macs, plot_feature_map_by_width, plot_training_curves
from dnnet.runs import CONFIG_FILE, RunRecord, read_metrics
from dnnet.runs.fresh_names import newest_name
from dnnet.selection import best_within, offered_cells
from dnnet.utils.amounts import EXAMPLE_BUDGET, MacsBudget

RESOURCE_MAPS = [("macs", "MACs needed", "million MACs", 1e6), ("params", "parameters", "thousand parameters", 1e3)]
ANNOTATED_CELLS = 400  # up to this many cells a heatmap writes each cell's number (16 x 22 = 352 still reads)


def write_report(run_dir: Path, macs_budget: MacsBudget = EXAMPLE_BUDGET) -> Path:
    """Writes the figures and report.html into `run_dir`, with the best cell under an example MAC budget."""
    run_dir = Path(run_dir)
    record = RunRecord.read(run_dir)
    config, preset = record.net_config, record.train_config.preset
    val = read_accuracy_grid(run_dir, "val")
    test = read_accuracy_grid(run_dir, "test")
    grid = grid_resources(config)
    budget = macs_budget.macs(grid[-1].macs)
    choice = best_within(val, offered_cells(config), {"macs": budget})
    plot_accuracy_grid(val, run_dir, "val", preset)
    plot_accuracy_grid(test, run_dir, "test", preset)
    figures = [("accuracy_val.png", "Validation accuracy of every cell"), ("accuracy_test.png", "Test accuracy of every cell")]
    caption = run_caption(run_dir)
    plot_accuracy_vs_macs(val, grid, run_dir / "accuracy_vs_macs.png", f"{preset}: every cell, validation accuracy\n{caption}",
                          choice, budget)
    figures.append(("accuracy_vs_macs.png", "Accuracy against MACs; red: Pareto front; ringed: full width"))
    rows = read_metrics(run_dir)
    if rows:
        plot_training_curves(rows, run_dir / "training_curves.png", f"{preset}: {caption}")
        figures.append(("training_curves.png", "Training curves"))
    for field, title, label, divisor in RESOURCE_MAPS:
        values = np.array([getattr(c, field) for c in grid], dtype=float).reshape(config.num_exits, config.groups) / divisor
        plot_grid_heatmap(values, f"{preset}: {title}", label, run_dir / f"resources_{field}.png",
                          budget=budget / divisor if field == "macs" else None,
                          annotate_format=".3g" if values.size <= ANNOTATED_CELLS else None)
        figures.append((f"resources_{field}.png", f"Resources: {title}"))
    plot_feature_map_by_width(grid, run_dir / "resources_largest_feature_map_values.png",
                              f"{preset}: largest feature map, the same at every depth")
    figures.append(("resources_largest_feature_map_values.png", "Resources: largest feature map, per width"))
    summary = _summary_lines(preset, val, test, choice, budget, grid[-1].macs)
    sections = [Section("Accuracy and resources", summary, figures), _anytime_path_section(config, val, test, preset, run_dir),
                *deployment_sections(run_dir, preset),
                next_steps_section(run_dir, preset, record.train_config.optimiser.epochs, choice, str(macs_budget))]
    page = _page(preset, sections, run_dir)
    path = run_dir / "report.html"
    path.write_text(page)
    return path


def _summary_lines(preset, val, test, choice, budget, full_macs) -> list[str]:
    lines = [f"Full network: validation {100 * val[-1, -1]:.2f}%, test {100 * test[-1, -1]:.2f}% "
             f"({full_macs / 1e6:.2f}M MACs)."]
    if choice is None:
        lines.append(f"No cell fits the example budget of {budget / 1e6:.3g}M MACs.")
    else:
        c = choice.cell
        lines.append(f"Best cell under {budget / 1e6:.3g}M MACs (chosen on validation): {cell_name(c.depth, c.width)}, "
                     f"{c.macs / 1e6:.2f}M MACs, {c.params:,} parameters; validation {100 * choice.accuracy:.2f}%, "
                     f"test {100 * test[c.depth - 1, c.width - 1]:.2f}%.")
    return lines


def _anytime_path_section(config: NetConfig, val, test, preset: str, run_dir: Path) -> Section:
    """The path an anytime walk takes by default (the exact best by area on validation) against the greedy one and the
    best single cell under each budget, read on test; drawn as anytime_path.png."""
    rules = ("area", "greedy") if config.nested_widths else ("auto",)  # a network without nested widths has one path
    paths = {rule: choose_path(config, val, rule) for rule in rules}
    lines = [f"{'Greedy' if name == 'greedy' else 'Default'} path, {describe_path(path_record(path, config, val, test))}."
             for name, path in paths.items()]
    walks = [Walk(f"{path.rule} path", config, path.cells, test) for path in paths.values()]
    axis = next(iter(paths.values())).axis
    plot_anytime_paths(walks, val, axis, run_dir / "anytime_path.png", f"{preset}: walks chosen on validation, test accuracy\n"
                       f"{run_caption(run_dir)}".strip())
    return Section("Anytime path", lines, [("anytime_path.png", "Anytime answers along each walk against the best single cell "
                                                                 "per budget (test accuracy); the walks on the grid")])


EXPLAINER = ("A doubly nested network can be cut after any residual block (its <b>depth</b>: exit 1 follows the stem) "
             "and to its first channel groups (its <b>width</b>); each (depth, width) pair is a <b>cell</b>, a network of its "
             "own, written DEPTHxWIDTH: 14x12 is exit 14 at 12 groups. Cells are chosen on the validation split; the test "
             "split only reports them.")
DATA_FILES = ("config.json", "metrics.csv", "metrics.jsonl", "accuracy_val.csv", "accuracy_val.json", "accuracy_test.csv",
              "accuracy_test.json", "latency_eager.json", "latency_onnxruntime.json", "latency_onnxruntime-int8.json")


def _page(preset: str, sections: list[Section], run_dir: Path) -> str:
    body = "\n".join(_section_html(section, run_dir) for section in sections)
    anytime = newest_name(run_dir, "anytime", ".json")  # the result the report shows, of those `dnnet anytime` wrote
    names = [name for name in DATA_FILES if (run_dir / name).is_file()] + ([anytime.name] if anytime else [])
    links = ", ".join(f'<a href="{name}">{name}</a>' for name in names)
    config = html.escape(json.dumps(json.loads((run_dir / CONFIG_FILE).read_text()), indent=2))  # the file as it is
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>dnnet report: {html.escape(preset)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} img{{max-width:100%}}
figure{{margin:1.5em 0}} pre{{background:#f4f4f4;padding:1em;overflow:auto;font-size:12px}} .note{{color:#444}}</style></head>
<body><h1>{html.escape(preset)}</h1><p class="note">{EXPLAINER}</p>
{body}
<h2>Files</h2><p>The numbers behind the figures, beside this page in the run directory: {links}.</p>
<details><summary>Run configuration and provenance</summary><pre>{config}</pre></details></body></html>
"""


def _section_html(section: Section, run_dir: Path) -> str:
    items = "\n".join(f"<li>{html.escape(line)}</li>" for line in section.lines)
    images = "\n".join(f"<figure>{embedded_img(run_dir / name, name, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"
                        for name, caption in section.figures)
    return f"<h2>{html.escape(section.title)}</h2><ul>{items}</ul>\n{images}"
