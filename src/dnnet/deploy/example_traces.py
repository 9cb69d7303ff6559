"""The example budget traces shipped inside the package, by name, so that `dnnet simulate --trace contention` works
wherever dnnet is installed (bench/make_traces.py wrote them)."""

from __future__ import annotations

from pathlib import Path

TRACES_DIR = Path(__file__).parent / "traces"
EXAMPLE_TRACES = ("contention", "memory_squeeze", "random_walk")


def trace_path(spec: str | Path) -> Path:
    """A CSV path as given, or the shipped trace of that name when no such file exists."""
    path = Path(spec)
    if str(spec) in EXAMPLE_TRACES and not path.exists():
        return TRACES_DIR / f"{spec}.csv"
    return path
