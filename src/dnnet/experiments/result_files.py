"""An experiment's table as JSON (with its config, seeds, commit, machine and wall time) and CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from dnnet.utils.atomic_file import atomic_write
from dnnet.utils.provenance import provenance


def experiment_dir(root: Path) -> Path:
    path = Path(root) / "experiments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_result(root: Path, name: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """`experiments/NAME.json` (meta + rows) and `experiments/NAME.csv` (rows)."""
    out = experiment_dir(root)
    record = {"experiment": name, **meta, "provenance": provenance(), "rows": rows}
    with atomic_write(out / f"{name}.json") as stream:  # the JSON marks the experiment done: never half-written
        stream.write((json.dumps(record, indent=2) + "\n").encode())
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(out / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return out / f"{name}.json"
