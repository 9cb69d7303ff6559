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
            folder = line[3:].strip()
        elif (row := re.match(r"\| ([^|`]+?) \| ", line)) and row.group(1) not in ("file", "---"):
            indexed.add(folder + row.group(1))
    assert sorted(tracked - indexed) == [], "run python bench/write_docs_index.py"
    assert sorted(indexed - tracked) == []
