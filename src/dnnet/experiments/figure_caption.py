"""What an experiment's figure says under its title, so that it stands alone when copied: data, epochs, hardware, seeds."""

from __future__ import annotations

from pathlib import Path

from dnnet.reporting.run_caption import run_caption


def experiment_caption(run_dirs: list[Path], seeds: list[int]) -> str:
    """'cifar10-jpg, 7 epochs, CPU, 1 thread(s); seeds 0, 1': the runs' captions (each different one once) and the seeds."""
    captions = list(dict.fromkeys(filter(None, (run_caption(path) for path in run_dirs))))
    seed_text = f"seed{'s' if len(seeds) > 1 else ''} {', '.join(str(s) for s in sorted(set(seeds)))}"
    return "; ".join([*captions, seed_text])
