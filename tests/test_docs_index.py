"""docs/INDEX.md names every committed file under docs/ (bench/write_docs_index.py writes it)."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_index_names_every_committed_file_under_docs():
    listed = subprocess.run(["git", "ls-files", "docs"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    tracked = {name for name in listed if name != "docs/INDEX.md"}
    indexed, folder = set(), None
    for line in (ROOT / "docs" / "INDEX.md").read_text().splitlines():
        if line.startswith("## "):
            folder = line[3:].strip() if line.startswith("## docs/") else None
        elif folder and (row := re.match(r"\| ([^|`]+?) \| ", line)) and row.group(1) not in ("file", "---"):
            indexed.add(folder + row.group(1))
    assert sorted(tracked - indexed) == [], "run python bench/write_docs_index.py"
    assert sorted(indexed - tracked) == []


def test_the_results_page_stays_short_and_the_history_keeps_the_rest():
    """docs/results.md says what holds today in under 300 lines; earlier measurements live in docs/history.md."""
    docs = Path(__file__).resolve().parents[1] / "docs"
    results = (docs / "results.md").read_text()
    assert len(results.splitlines()) < 300
    sections = [line.split('section "', 1)[1].rstrip('"') for line in results.splitlines()
                if line.startswith("Earlier measurements: docs/history.md, section ")]
    history_headings = {line.lstrip("#").strip() for line in (docs / "history.md").read_text().splitlines() if line.startswith("#")}
    assert sections and all(section in history_headings for section in sections)


def test_every_bench_script_is_named_once_by_its_purpose_in_the_index():
    listed = subprocess.run(["git", "ls-files", "bench"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    scripts = sorted(name for name in listed if name.endswith((".py", ".sh")))
    index = (ROOT / "docs" / "INDEX.md").read_text()
    named = re.findall(r"^\| (bench/[^ |]+) \| ", index, flags=re.MULTILINE)
    assert sorted(named) == scripts, "classify the script in bench/write_docs_index.py PURPOSES, then run it"
