"""The parts of a run's report that exist only once the run was deployed: latency tables (`dnnet latency`), anytime
serving (`dnnet anytime`) and trace replays (`dnnet simulate`), each read from the file its command wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dnnet.deploy.latency import RUNTIMES, latency_path
from dnnet.reporting.heatmaps import plot_grid_heatmap
from dnnet.runs.fresh_names import newest_name


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file in the run directory, caption)


def deployment_sections(run_dir: Path, preset: str) -> list[Section]:
    """A section per deployment result the run directory holds; a file that cannot be read is named, not fatal."""
    builders = [(f"Latency ({runtime})", latency_path(run_dir, runtime), lambda runtime=runtime: _latency(run_dir, preset, runtime))
                for runtime in RUNTIMES]
    anytime = newest_name(run_dir, "anytime", ".json") or run_dir / "anytime.json"  # the latest `dnnet anytime`
    builders.append(("Anytime serving", anytime, lambda: _anytime(anytime)))
    builders += [(f"Changing budgets: trace {path.stem}", path, lambda path=path: _simulation(path))
                 for path in sorted((run_dir / "simulate").glob("*.json"))]
    sections = []
    for title, path, build in builders:
        if path.is_file():
            try:
                sections.append(build())
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):  # written by hand, or by another version
                sections.append(Section(title, [f"{path.relative_to(run_dir)} could not be read."]))
    return sections


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _latency(run_dir: Path, preset: str, runtime: str) -> Section:
    path = latency_path(run_dir, runtime)
    section = Section(f"Latency ({runtime})")
    record = _read(path)
    if record is None or "milliseconds" not in record:
        return Section(section.title, [f"{path.name} could not be read."])
    table = np.array(record["milliseconds"], dtype=float)
    if table.ndim != 2 or table.size == 0:
        raise ValueError(f"{path.name}: milliseconds is not a grid")
    figure = f"latency_{runtime}.png"
    plot_grid_heatmap(table, f"{preset}: milliseconds per forward pass ({runtime})", "ms", run_dir / figure,
                      annotate_format=".2f" if table.size <= 120 else None)
    section.lines.append(f"Median of {record.get('repeats', '?')} timed rounds, batch {record.get('batch', '?')}, "
                         f"{record.get('threads', '?')} thread(s): fastest cell {table.min():.3f} ms, full network "
                         f"{table[-1, -1]:.3f} ms (measured on {record.get('provenance', {}).get('machine', 'this machine')}).")
    section.figures.append((figure, f"Latency of every cell ({runtime})"))
    return section


def _anytime(path: Path) -> Section:
    record = _read(path)
    if record is None or "served" not in record:
        return Section("Anytime serving", [f"{path.name} could not be read."])
    lines = [f"Path of {len(record['path'])} cells from {record['path'][0]} to {record['path'][-1]}; early stop at "
             f"confidence {record['threshold']} (chosen on validation)."]
    for name, served in record["served"].items():
        lines.append(f"{name}: test accuracy {100 * served['accuracy']:.2f}% over {served['requests']} images, "
                     f"{served['mean_steps']:.1f} steps, {served['median_ms']:.3f} ms median, {served['p95_ms']:.3f} ms p95.")
    return Section("Anytime serving", lines)


def _simulation(path: Path) -> Section:
    record = _read(path)
    title = f"Changing budgets: trace {path.stem}"
    if record is None or "summary" not in record:
        return Section(title, [f"simulate/{path.name} could not be read."])
    lines = [f"{label}: accuracy delivered {100 * numbers['accuracy_delivered']:.2f}% over {numbers['requests']} requests "
             f"({numbers['answered']} answered)." for label, numbers in record["summary"].items()]
    figure = path.with_suffix(".png")
    figures = [(f"simulate/{figure.name}", f"Trace {path.stem}: budgets and the cells that served them")] if figure.is_file() else []
    return Section(title, lines, figures)
