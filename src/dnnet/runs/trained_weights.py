"""A weights folder (`dnnet pretrained`, `save_pretrained`, or a preset's shipped weights) read like a run, so that the
commands that only read a trained network (select, export, bundle) take a run folder, a weights folder or a preset's
name alike. Its record is made from the folder's config.json; its accuracy grids are the ones the folder recorded;
nothing is ever written into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.models import list_models
from dnnet.models.dnnet import DNNet
from dnnet.models.pretrained_files import CONFIG_FILE, is_pretrained_folder, read_pretrained_record
from dnnet.runs.run_record import RunData, RunRecord
from dnnet.runs.train_config import TrainConfig
from dnnet.runs.trained_run import TrainedRun

GRID_RECORDS = {"val": "validation_accuracy", "test": "test_accuracy"}  # split -> the folder's provenance key


class TrainedWeights(TrainedRun):
    """A whole DNNet's weights folder as a read-only run."""

    def __init__(self, folder: Path, record: RunRecord, pretrained: dict[str, Any], data_dir: str | None = None,
                 cache_dir: Path | None = None) -> None:
        super().__init__(folder, record, data_dir, cache_dir)
        self.pretrained = pretrained  # the folder's config.json

    @classmethod
    def open(cls, path: str | Path, data_dir: str | None = None, cache_dir: Path | None = None) -> TrainedWeights:
        folder = Path(path)
        pretrained = read_pretrained_record(folder)
        if pretrained["network"]["kind"] != "dnnet":
            raise UserError(f"{folder} holds one cell (a SubNet), not a whole DNNet: there is no cell to choose in it")
        return cls(folder, record_of_weights(folder, pretrained), pretrained, data_dir, cache_dir)

    @cached_property
    def model(self) -> DNNet:
        return DNNet.from_pretrained(self.path)

    def optional_grid(self, split: str) -> torch.Tensor | None:
        recorded = self.pretrained["provenance"].get(GRID_RECORDS[split])
        if not isinstance(recorded, dict) or "every_cell" not in recorded:
            return None
        grid = torch.tensor(recorded["every_cell"], dtype=torch.float64)
        if tuple(grid.shape) != self.record.net_config.grid_shape:
            raise UserError(f"{self.path / CONFIG_FILE}: its {GRID_RECORDS[split]} is not a grid of "
                            f"{self.record.net_config.grid_shape} cells")
        return grid

    def grid(self, split: str) -> torch.Tensor:
        grid = self.optional_grid(split)
        if grid is None:
            raise UserError(f"{self.path} records no {GRID_RECORDS[split].replace('_', ' ')} (weights written before dnnet "
                            f"recorded it, or by save_pretrained without it): make the folder again with `dnnet pretrained "
                            f"RUN`, or use the run itself")
        return grid

    @contextmanager
    def writing(self) -> Iterator[None]:
        raise UserError(f"{self.path} is a weights folder: nothing is written into it; use the run it came from")
        yield  # pragma: no cover - a generator for contextmanager


def record_of_weights(folder: Path, pretrained: dict[str, Any]) -> RunRecord:
    """A run's record for a weights folder: its architecture, its preprocessing as the data record, its training
    settings when the folder recorded them (a folder of `dnnet pretrained` does)."""
    preprocessing, provenance = pretrained["preprocessing"], pretrained["provenance"]
    if not {"mean", "std", "image_shape"} <= set(preprocessing):
        raise UserError(f"{folder / CONFIG_FILE} records no preprocessing (mean, std, image shape): its inputs are unknown")
    net_config = NetConfig.from_dict(pretrained["net_config"])
    settings = provenance.get("train_config")
    train_config = TrainConfig.from_dict(settings) if isinstance(settings, dict) else TrainConfig()
    classes = preprocessing.get("classes") or [str(index) for index in range(net_config.num_classes)]
    data = RunData(name=str(provenance.get("data", folder.name)), classes=tuple(classes),
                   image_shape=tuple(preprocessing["image_shape"]), flip=True, train=0, val=0, test=0,
                   mean=tuple(preprocessing["mean"]), std=tuple(preprocessing["std"]))
    run_provenance = provenance.get("run_provenance")
    return RunRecord(train_config=train_config, net_config=net_config, data=data,
                     provenance=run_provenance if isinstance(run_provenance, dict) else None)


def open_trained(source: str | Path, data_dir: str | None = None, cache_dir: Path | None = None) -> TrainedRun:
    """A trained network to read: a run folder, a weights folder, or the name of a preset whose weights ship with dnnet."""
    path = Path(source)
    if not path.exists() and str(source) in list_models(pretrained=True):
        from dnnet.models.shipped_weights import shipped_weights_folder

        return TrainedWeights.open(shipped_weights_folder(str(source)), data_dir, cache_dir)
    if is_pretrained_folder(path):
        return TrainedWeights.open(path, data_dir, cache_dir)
    return TrainedRun.open(path, data_dir, cache_dir)
