"""The training runs of an experiment root: trained once, found again, resumed after an interruption."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from dnnet.config import NetConfig
from dnnet.data import NAMED, DataSplits, load_data
from dnnet.errors import UserError
from dnnet.evaluation import read_accuracy_grid
from dnnet.experiments.protocols import Protocol
from dnnet.runs import CHECKPOINT_FILE, CONFIG_FILE, RunOutline, RunRecord, TrainConfig, TrainedRun, is_finished, read_metrics
from dnnet.train import train
from dnnet.train.objective import trains_the_same
from dnnet.utils.device_choice import chosen_device


class RunStore:
    """Runs live in `root/runs/NAME`; `ensure(name)` trains what is missing and reuses what is done."""

    def __init__(self, root: Path, protocol: Protocol, show_progress: bool = True, cache_dir: Path | None = None,
                 device: str | None = None) -> None:
        self.root = Path(root)
        self.protocol = protocol
        self.configs = protocol.training_runs()
        self.show_progress = show_progress
        self.cache_dir = cache_dir
        self._data: dict[tuple, DataSplits] = {}
        self.device = chosen_device(device)  # for training and for evaluations after it

    def run_dir(self, name: str) -> Path:
        return self.root / "runs" / name

    def config(self, name: str) -> TrainConfig:
        return self.configs[name]

    def ensure(self, name: str) -> Path:
        """The finished run `name`, training or resuming it first if needed."""
        config, run_dir = self.configs[name], self.run_dir(name)
        if (run_dir / CONFIG_FILE).is_file():
            outline = RunOutline.read(run_dir)
            saved = outline.train_config  # fields added since read as trained then
            if outline.data_source and saved.dataset.data not in NAMED:  # a relative path means the folder it was trained from
                saved = saved.replaced(data=outline.data_source)
            net = outline.net_config
            if not (saved == config if net is None else trains_the_same(saved, config, net)):
                raise UserError(f"{run_dir} holds a run with other settings than protocol {self.protocol.name!r} asks for; "
                                 f"move it away or choose another --out")
        if self.is_finished(name):
            return run_dir
        resume = (run_dir / CHECKPOINT_FILE).is_file()
        print(f"{'resuming' if resume else 'training'} {name}: {config.preset}"
              f"{'' if config.groups is None else f' with {config.groups} groups'}, "
              f"{'sandwich rule' if config.objective.kind == 'sandwich' else f'weighting {config.objective.weighting}'}, "
              f"{config.optimiser.epochs} epochs, seed {config.seed}", flush=True)
        started = time.perf_counter()
        train(config, run_dir, resume=resume, device=str(self.device), show_progress=self.show_progress, data=self.data(config))
        print(f"  {name} done in {time.perf_counter() - started:.0f} s", flush=True)
        return run_dir

    def is_finished(self, name: str) -> bool:
        return is_finished(self.run_dir(name))

    def data(self, config: TrainConfig) -> DataSplits:
        """Loaded once per (data, validation split): the runs of one seed share their images."""
        key = (config.dataset.data, config.dataset.data_dir, config.dataset.val_count, config.seed, config.dataset.skip_bad_images)
        if key not in self._data:
            self._data[key] = load_data(config.dataset.data, config.dataset.data_dir, self.cache_dir, config.dataset.val_count, config.seed,
                                        skip_bad_images=config.dataset.skip_bad_images)
        return self._data[key]

    def grids(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(validation, test) accuracy grids of the finished run."""
        run_dir = self.ensure(name)
        return read_accuracy_grid(run_dir, "val"), read_accuracy_grid(run_dir, "test")

    def trained_run(self, name: str) -> TrainedRun:
        """The finished run `name`, opened for reading (its network: `.model`)."""
        return TrainedRun.open(self.ensure(name))

    def net_config(self, name: str) -> NetConfig:
        """The finished run's architecture, read without loading its weights."""
        return RunRecord.read(self.ensure(name)).net_config

    def training_seconds(self, names: list[str]) -> float:
        """Training wall time of finished runs, from their per-epoch metrics."""
        return sum(row["seconds"] for name in names for row in read_metrics(self.run_dir(name)))
