"""The data a run was trained on, found again for eval, simulate, anytime and --resume, and checked to be the same."""

from __future__ import annotations

from pathlib import Path

from dnnet.data import NAMED, DataSplits, load_data
from dnnet.data.fingerprint import data_fingerprint
from dnnet.errors import UserError
from dnnet.runs.run_record import RunData
from dnnet.runs.train_config import TrainConfig


def data_source(spec: str) -> str | None:
    """The absolute path of a --data that is a path (recorded so that a run finds its data from any folder)."""
    return None if spec in NAMED else str(Path(spec).resolve())


def load_run_data(config: TrainConfig, recorded: RunData, data_dir: str | None = None,
                  cache_dir: Path | None = None) -> DataSplits:
    """The data of the run trained with `config` that recorded `recorded`: a path as recorded absolute when the one
    given at training no longer resolves from here; refused by a UserError when its fingerprint differs from the one
    recorded (runs recorded before fingerprints existed are not checked)."""
    spec = config.dataset.data
    if spec not in NAMED and not Path(spec).exists() and recorded.source and Path(recorded.source).exists():
        spec = recorded.source  # a relative --data, read from another folder
    data = load_data(spec, data_dir or config.dataset.data_dir, cache_dir, config.dataset.val_count, config.seed,
                     skip_bad_images=config.dataset.skip_bad_images, image_size=config.dataset.image_size)
    check_same_data(data, recorded, spec)
    return data


def check_same_data(data: DataSplits, recorded: RunData, spec: str) -> None:
    """Refuses `data` (read from `spec`) when it is not what the run that recorded `recorded` was trained on."""
    if recorded.fingerprint is not None and data_fingerprint(data) != recorded.fingerprint:
        raise UserError(f"the data at {spec} is not what this run was trained on (its images or labels differ from the "
                        f"fingerprint in config.json); point --data-dir at the original data")


def check_runs_share_data(recorded: dict[str, RunData]) -> None:
    """Refuses runs to be compared (by label) that were not trained on the same data: another data set by name, or the
    same name with other images or labels (their recorded fingerprints differ)."""
    names = {data.name for data in recorded.values()}
    if len(names) > 1:
        raise UserError(f"the runs were trained on different data ({', '.join(sorted(names))}); compare runs on the same data")
    fingerprints = {label: data.fingerprint for label, data in recorded.items() if data.fingerprint is not None}
    if len(set(fingerprints.values())) > 1:
        raise UserError(f"the runs were trained on different images or labels of {names.pop()} (their config.json "
                        f"fingerprints differ: {', '.join(sorted(fingerprints))}); compare runs on the same data")
