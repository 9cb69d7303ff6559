"""Writes the example traces of `dnnet simulate` (budgets as fractions of the full DNNet's MACs and peak memory).

    python bench/make_traces.py   # src/dnnet/deploy/traces/{contention,memory_squeeze,random_walk}.csv

- contention: a second program takes most of the compute from 15 s to 35 s and half the memory from 25 s to 45 s;
- memory_squeeze: compute is ample, memory swings between 30% and 100% of the full network's;
- random_walk: both budgets wander between 10% and 100% (seeded).
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

REQUESTS, SECONDS = 300, 60.0


def contention(t: float) -> tuple[float, float]:
    macs = 0.3 if 15 <= t < 35 else (0.6 if t >= 35 else 1.0)
    memory = 0.5 if 25 <= t < 45 else 1.0
    return macs, memory


def memory_squeeze(t: float) -> tuple[float, float]:
    return 0.8, 0.65 + 0.35 * math.cos(2 * math.pi * t / 20)


def random_walk_trace(seed: int = 0) -> list[tuple[float, float]]:
    rng, macs, memory, values = random.Random(seed), 0.6, 0.6, []
    for _ in range(REQUESTS):
        macs = min(1.0, max(0.1, macs + rng.gauss(0, 0.06)))
        memory = min(1.0, max(0.1, memory + rng.gauss(0, 0.06)))
        values.append((macs, memory))
    return values


def write(path: Path, budgets: list[tuple[float, float]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_s", "macs_fraction", "memory_fraction"])
        for i, (macs, memory) in enumerate(budgets):
            writer.writerow([f"{i * SECONDS / REQUESTS:.2f}", f"{macs:.4f}", f"{memory:.4f}"])


def main() -> None:
    here = Path(__file__).parents[1] / "src" / "dnnet" / "deploy" / "traces"  # shipped as package data
    times = [i * SECONDS / REQUESTS for i in range(REQUESTS)]
    write(here / "contention.csv", [contention(t) for t in times])
    write(here / "memory_squeeze.csv", [memory_squeeze(t) for t in times])
    write(here / "random_walk.csv", random_walk_trace())


if __name__ == "__main__":
    main()
