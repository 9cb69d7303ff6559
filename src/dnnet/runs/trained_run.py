"""A trained run read back from its directory: its record, its trained network, its data and its accuracy grids."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import torch

from dnnet.data import DataSplits, normalize
from dnnet.errors import UserError
from dnnet.evaluation import read_accuracy_grid, read_optional_grid
from dnnet.models.dnnet import DNNet
from dnnet.models.pretrained_files import is_pretrained_folder
from dnnet.models.weights_check import check_finite, check_header_fits, header_of_state
from dnnet.runs.run_data import load_run_data
from dnnet.runs.run_files import CHECKPOINT_FILE, CONFIG_FILE, load_checkpoint, load_weights, trained_weights_key
from dnnet.runs.run_lock import run_lock
from dnnet.runs.run_record import RunRecord


class TrainedRun:
    """A run directory opened for reading: its record (config.json) at once, its network and its data on first use.

        run = TrainedRun.open("runs/r20")
        logits = run.model(run.normalize(run.data().test.images[:8]))
    """

    def __init__(self, path: Path, record: RunRecord, data_dir: str | None = None, cache_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.record = record
        self.data_dir = data_dir  # where the run's named data set lives, if moved (None: where it was trained)
        self.cache_dir = cache_dir  # the decoded-image cache (None: the default)
        self._data: DataSplits | None = None

    @classmethod
    def open(cls, path: str | Path, data_dir: str | None = None, cache_dir: Path | None = None) -> TrainedRun:
        """The run in `path`, its config.json read now (a clear error if it is not a run directory)."""
        if is_pretrained_folder(Path(path)):
            raise UserError(f"{path} is a weights folder, not a run: this command reads a run (select, export and bundle "
                            f"take weights too; `dnnet eval --weights {path} --data DATA` evaluates them)")
        return cls(Path(path), RunRecord.read(Path(path)), data_dir, cache_dir)

    @cached_property
    def model(self) -> DNNet:
        """The trained network, in eval mode on the CPU, read from the checkpoint on first use: with `ema` the weights'
        moving average (what the run evaluated), else the optimizer's last weights."""
        path = self.path / CHECKPOINT_FILE
        checkpoint = load_checkpoint(path)
        key = trained_weights_key(self.record.train_config)
        config = self.record.net_config
        if isinstance(checkpoint.get(key), dict):  # config.json against the checkpoint's shapes, before building anything
            check_header_fits(lambda: DNNet(config), config, header_of_state(checkpoint[key], path), path)
        saved_id, our_id = checkpoint.get("run_id"), self.record.run_id
        if saved_id is not None and our_id is not None and saved_id != our_id:  # None: a run older than run ids
            raise UserError(f"{path} belongs to another run (run id {saved_id}), not to the run its {CONFIG_FILE} describes "
                            f"({our_id}): it was copied in; put back this run's checkpoint, or read the other run's folder")
        model = DNNet(config)
        load_weights(model, checkpoint, path, key=key)
        check_finite(model, path)
        return model.eval()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Holds the run's lock while a command writes its results into the run: refused while it trains."""
        with run_lock(self.path, advice=" (its files change until then)"):
            yield

    def data(self) -> DataSplits:
        """The splits the run was trained on, read on the first call and refused if they are not the same data."""
        if self._data is None:
            self._data = load_run_data(self.record.train_config, self.record.data, self.data_dir, self.cache_dir)
        return self._data

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, C, H, W) as the network takes them: float, minus the run's mean, over its std, per channel."""
        return normalize(images, *self.record.data.stats)

    def grid(self, split: str) -> torch.Tensor:
        """The run's (depths, widths) accuracy grid of `split` as `dnnet eval` stored it; an error when there is none."""
        return read_accuracy_grid(self.path, split, self.record.net_config.grid_shape)

    def optional_grid(self, split: str) -> torch.Tensor | None:
        """`grid`, or None when the run has no grid of `split` yet (a damaged one is still an error)."""
        return read_optional_grid(self.path, split, self.record.net_config.grid_shape)
