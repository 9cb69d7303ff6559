"""Per-epoch metrics as JSON lines and CSV, appended as the run goes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def append_metrics(run_dir: Path, row: dict[str, Any]) -> None:
    with (run_dir / "metrics.jsonl").open("a") as stream:
        stream.write(json.dumps(row) + "\n")
    csv_path = run_dir / "metrics.csv"
    new = not csv_path.exists()
    with csv_path.open("a", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_metrics(run_dir: Path, epochs_done: int) -> None:
    """Drops rows past `epochs_done` (written after the checkpoint a resumed run starts from)."""
    rows = [row for row in read_metrics(run_dir) if row["epoch"] <= epochs_done]
    for name in ("metrics.jsonl", "metrics.csv"):
        (run_dir / name).unlink(missing_ok=True)
    for row in rows:
        append_metrics(run_dir, row)
