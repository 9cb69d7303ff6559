"""Whose files a run directory holds: a new run starts only in an empty folder or over the remains of a run of ours
that was killed before its first checkpoint; a resume continues only a checkpoint of the run in config.json."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from dnnet.errors import UserError
from dnnet.runs.run_files import CHECKPOINT_FILE, CONFIG_FILE, METRICS_CSV_FILE, METRICS_FILE
from dnnet.runs.run_lock import LOCK_FILE
from dnnet.runs.run_record import RunRecord, read_config_values
from dnnet.runs.runtime_settings import RuntimeSettings
from dnnet.runs.train_config import TrainConfig

# what `atomic_write` leaves beside these names when a process is killed mid-write: "<name><random>.tmp"
ATOMICALLY_WRITTEN = (CHECKPOINT_FILE, CONFIG_FILE, "finished.json", "accuracy_val", "accuracy_test")


def remove_orphaned_temporaries(run_dir: Path) -> list[Path]:
    """Deletes the temporary files of our atomic writes that a killed process left; returns them."""
    orphans = [p for p in Path(run_dir).glob("*.tmp") if p.is_file() and p.name.startswith(ATOMICALLY_WRITTEN)]
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans


def prepare_new_run(run_dir: Path) -> None:
    """Makes `run_dir` ready for a new run, or refuses it (before anything in it is touched).

    Empty or absent: ready. A config.json of ours with no checkpoint (a run killed before its first checkpoint):
    its metrics are removed, so that the new run's rows are the only ones. Anything else is someone's data.
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise UserError(f"--out {run_dir} is a file, not a folder for a run")
    remove_orphaned_temporaries(run_dir)
    present = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_FILE)
    if not present:
        return
    if CONFIG_FILE not in present:
        raise UserError(f"{run_dir} holds files but no run ({', '.join(present[:3])}{', ...' if len(present) > 3 else ''}); "
                        "train into an empty or new folder")
    values, _ = read_config_values(run_dir)  # a config.json that is not JSON is refused here, with its path
    if not isinstance(values.get("train_config"), dict) or "net_config" not in values:
        raise UserError(f"{run_dir / CONFIG_FILE} is not a config.json that dnnet train wrote; train into an empty or new folder")
    stale = [name for name in (METRICS_FILE, METRICS_CSV_FILE) if name in present]
    for name in stale:
        (run_dir / name).unlink()
    print(f"dnnet: {run_dir} held a run stopped before its first checkpoint; starting it again", file=sys.stderr)


def check_checkpoint_belongs(run_dir: Path, checkpoint: dict[str, Any]) -> None:
    """Refuses to resume from a checkpoint that another run wrote (copied in, or left from an earlier run): its
    run id, or its settings, must be those of config.json. Nothing in `run_dir` is changed before this check."""
    record = RunRecord.read(run_dir)
    saved_id, our_id = checkpoint.get("run_id"), record.run_id
    if saved_id is not None and our_id is not None and saved_id != our_id:
        raise UserError(f"{run_dir / CHECKPOINT_FILE} was written by another run (run id {saved_id}, "
                        f"{CONFIG_FILE} says {our_id}); refusing to resume, nothing was changed")
    # read as TrainConfig does: a run begun before a setting existed has it in one file and not in the other
    # and compared without the runtime settings, which a resume takes from its caller
    ours, theirs = (dataclasses.replace(config, runtime=RuntimeSettings()).to_dict()
                    for config in (record.train_config, TrainConfig.from_dict(checkpoint.get("train_config") or {})))
    differing = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if differing:
        shown = ", ".join(f"{k}: {theirs.get(k)!r} against {ours.get(k)!r}" for k in differing[:3])
        raise UserError(f"{run_dir / CHECKPOINT_FILE} holds another run's settings ({shown}, in {CONFIG_FILE}); "
                        "refusing to resume, nothing was changed")
