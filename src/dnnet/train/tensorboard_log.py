"""`--tensorboard`: each epoch's metrics row also as TensorBoard scalars in RUN/tensorboard/ (the optional extra
`tensorboard`); metrics.jsonl and metrics.csv stay the record, this is a view of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnnet.errors import UserError

LOG_DIR = "tensorboard"


def check_tensorboard_installed() -> None:
    """Refuses --tensorboard before training starts, rather than after the first epoch, when the extra is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise UserError("--tensorboard needs the tensorboard package: pip install 'doubly-nested-networks[tensorboard]'") from None


def log_epoch_scalars(run_dir: Path, row: dict[str, Any]) -> None:
    """The row's numbers at step `epoch`; one writer per epoch, closed at once, so a crash loses nothing written."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(Path(run_dir) / LOG_DIR))
    try:
        for name, value in row.items():
            if name != "epoch" and isinstance(value, (int, float)):
                writer.add_scalar(name, value, global_step=row["epoch"])
    finally:
        writer.close()
