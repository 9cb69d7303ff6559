"""docs/INDEX.md: every committed file under docs/ with the command that wrote it and the commit it came from, as far
as the file (or the run folder it sits in) records them; the rest says where to look.

    python bench/write_docs_index.py        # rewrites docs/INDEX.md; tests/test_docs_index.py checks it is complete

Where the command comes from, in order: the file's own "command" (or its provenance's), for a file inside a training
run's folder the run's config.json (`dnnet train --config FOLDER/config.json` trains it again), for a figure the JSON
file of the same name beside it. The commit: the one the file records, else the commit that added the file to git.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "docs" / "INDEX.md"
NOT_RECORDED = "(not recorded)"

# every script in bench/ by what it is for (tests/test_docs_index.py checks that none is missing)
PURPOSES = {
    "timings (speed on this machine, as ratios within one run)": [
        "bench_anytime.py", "bench_cli_startup.py", "bench_compute_ahead.py", "bench_core.py", "bench_data.py",
        "bench_gpu_train.py", "bench_memory_format.py", "causal_conv_chunks.py", "causal_conv_schemes.py",
        "profile_training_step.py", "tiled_export.py", "width_conditioning_cost.py", "int8_cost.py"],
    "studies (numbers in docs/results.md and docs/history.md, from committed runs or new trainings)": [
        "anytime_path_areas.py", "budgeted_comparison.py", "loss_scale_digits.py", "plot_accuracy_vs_macs.py",
        "recipe_ablation.py", "silent_groups.py", "summarize_experiments.py", "summarize_runs.py"],
    "GPU leases (one prepared command per lease)": [
        "gpu_causal_conv_schemes.sh", "gpu_imagenet_speed.sh", "gpu_paper_plan.py", "gpu_paper_run.sh", "gpu_session.sh",
        "gpu_session_plan.py", "recipe_gpu_check.py"],
    "maintenance (files the package or the docs ship)": [
        "fresh_venv_check.sh", "make_traces.py", "redraw_accuracy_figures.py", "redraw_experiment_figures.py",
        "shipped_model_card.py", "vendor_digits.py", "write_docs_index.py"],
}


def tracked_docs() -> list[Path]:
    """The files under docs/ that git tracks or would track (not ignored): the index may be written before `git add`."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "docs"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return sorted({ROOT / name for name in listed if ROOT / name != INDEX and (ROOT / name).is_file()})


def recorded(path: Path) -> tuple[str | None, str | None]:
    """(command, commit) a JSON file records, if any."""
    if path.suffix != ".json" or not path.is_file():
        return None, None
    try:
        values = json.loads(path.read_text())
    except ValueError:
        return None, None
    if not isinstance(values, dict):
        return None, None
    provenance = values.get("provenance") if isinstance(values.get("provenance"), dict) else {}
    command = values.get("command") or provenance.get("command")
    return (command if isinstance(command, str) else None), provenance.get("commit")


def made_by(path: Path) -> tuple[str, str | None]:
    """The command behind `path` and the commit it records (None: not recorded)."""
    command, commit = recorded(path)
    run_config = path.parent / "config.json"
    if command is None and run_config.is_file() and "train_config" in run_config.read_text():
        command = f"dnnet train --config {run_config.relative_to(ROOT)}"
        commit = commit or recorded(run_config)[1]
    if command is None and path.suffix == ".png":
        command, commit = recorded(path.with_suffix(".json"))
    return command or NOT_RECORDED, commit


def added_in(path: Path) -> str:
    """The commit that added `path` to git."""
    return subprocess.run(["git", "log", "--diff-filter=A", "--format=%h", "-1", "--", str(path.relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip() or "uncommitted"


def first_line(script: Path) -> str:
    """What a bench script says it does: its docstring's first sentence, or a shell script's first comment line."""
    text = script.read_text()
    if script.suffix == ".py":
        import ast

        said = (ast.get_docstring(ast.parse(text)) or "").strip()
    else:
        said = " ".join(line.lstrip("# ").strip() for line in text.splitlines()[1:4] if line.startswith("#"))
    return said.split(". ")[0].split("\n\n")[0].replace("\n", " ").replace("|", "&#124;")


def bench_section() -> list[str]:
    lines = ["## bench/ scripts by purpose", ""]
    for purpose, scripts in PURPOSES.items():
        lines += ["", f"### {purpose}", "", "| script | what it does |", "|---|---|"]
        lines += [f"| bench/{name} | {first_line(ROOT / 'bench' / name)} |" for name in scripts]
    return lines + [""]


def index_text(paths: list[Path]) -> str:
    lines = ["# Index of docs/", "", "Every committed file under docs/, the command that wrote it and its commit (`python "
             "bench/write_docs_index.py` writes this page; tests/test_docs_index.py checks that it names every file). "
             f"{NOT_RECORDED}: the file does not say; the section of docs/results.md, docs/history.md or docs/benchmarks.md that names the "
             "file gives the command. First, the scripts in bench/ by what they are for.", "", *bench_section()]
    folder = None
    for path in paths:
        relative = path.relative_to(ROOT / "docs")
        if relative.parent != folder:
            folder = relative.parent
            lines += ["", f"## {'docs/' if str(folder) == '.' else f'docs/{folder}/'}", "", "| file | made by | commit |", "|---|---|---|"]
        command, commit = made_by(path)
        shown = command if command == NOT_RECORDED else f"`{command}`"
        lines.append(f"| {relative.name} | {shown.replace('|', '&#124;')} | {(commit or added_in(path))[:12]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    INDEX.write_text(index_text(tracked_docs()))
    print(f"wrote {INDEX.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
