"""What a figure of a run says under its title, so that it stands alone when copied: data set, epochs and hardware."""

from __future__ import annotations

from pathlib import Path

from dnnet.errors import UserError
from dnnet.runs import RunOutline


def run_caption(run_dir: Path) -> str:
    """'cifar10-jpg, 40 epochs, NVIDIA H100 80GB HBM3' from the run's config.json; '' when it has none."""
    try:
        outline = RunOutline.read(run_dir)
    except (UserError, TypeError):  # no config.json, or not one dnnet wrote: no caption rather than no figure
        return ""
    if outline.data_name is None:
        return ""
    data, epochs, provenance = outline.data_name, outline.train_config.optimiser.epochs, outline.provenance or {}
    hardware = provenance.get("cuda_device") or f"CPU, {provenance.get('torch_threads', '?')} thread(s)"
    return f"{data}, {epochs} epoch{'' if epochs == 1 else 's'}, {hardware}"


def runs_caption(runs: dict[str, Path]) -> str:
    """One caption for a figure comparing runs: theirs when they agree, else each with its label."""
    captions = {label: run_caption(path) for label, path in runs.items()}
    if len(set(captions.values())) == 1:
        return next(iter(captions.values()))
    return "; ".join(f"{label}: {caption or 'unknown training'}" for label, caption in captions.items())
