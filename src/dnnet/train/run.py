"""A whole training run: data, model, epochs, checkpoints, metrics and the final accuracy grids."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import torch

from dnnet.data import DataSplits, channel_stats, load_data
from dnnet.evaluation import grid_accuracy, write_accuracy_grid
from dnnet.layers.prefix_batchnorm import to_synced_batchnorm
from dnnet.models import create_model
from dnnet.provenance import provenance
from dnnet.train.distributed import any_rank, join_world, leave_world, pick_device
from dnnet.train.epoch_loop import EpochPosition, NonFiniteLoss, steps_per_epoch, train_epoch
from dnnet.train.lr_schedule import epoch_learning_rate, learning_rate
from dnnet.train.objective import build_objective, resolve_weighting
from dnnet.train.run_directory import (
    CHECKPOINT_FILE,
    append_metrics,
    load_checkpoint,
    mark_finished,
    save_checkpoint,
    truncate_metrics,
    write_run_config,
)
from dnnet.train.split_accuracy import split_accuracy
from dnnet.train.train_config import TrainConfig


class Interrupted(Exception):
    """Ctrl-C: the run saved its position and stopped; `--resume` continues it."""


class StopRequest:
    """Turns the first Ctrl-C into a request to stop after the current step; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopRequest:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def train(config: TrainConfig, run_dir: Path, resume: bool = False, device: str | None = None,
          show_progress: bool = True, cache_dir: Path | None = None, data: DataSplits | None = None) -> dict[str, Any]:
    """Trains (or with `resume` continues) the run in `run_dir`; returns the final summary.

    Raises `Interrupted` after saving on Ctrl-C and `NonFiniteLoss` (keeping the last good
    checkpoint) when the loss is NaN or infinite.
    """
    run_dir = Path(run_dir)
    checkpoint_path = run_dir / CHECKPOINT_FILE
    checkpoint = _checkpoint_to_resume(run_dir, config, resume)
    if checkpoint is not None:
        config = TrainConfig.from_dict(checkpoint["train_config"])
    world = join_world("cuda" if torch.cuda.is_available() and device != "cpu" else "cpu")
    torch_device = pick_device(world, device)
    if torch_device.type == "cuda":
        torch.cuda.set_device(torch_device)  # collectives and un-indexed allocations go to this process's GPU
    try:
        data = data or load_data(config.data, config.data_dir, cache_dir, config.val_count, config.seed)
        stats = channel_stats(data.train.images)
        torch.manual_seed(config.seed)
        channels, size, _ = data.image_shape
        width = {} if config.groups is None else {"groups": config.groups}
        model = create_model(config.preset, num_classes=len(data.classes), in_channels=channels, image_size=size, **width)
        model = model.to(torch_device)
        if config.uses_channels_last(torch_device):
            model = model.to(memory_format=torch.channels_last)
        logits_module, loss_fn = build_objective(
            model, config.weighting, config.distill_weight, config.distill_temperature, config.loss_scale,
            config.objective, config.seed,
        )
        loss_fn = loss_fn.to(torch_device)
        objective_module = logits_module  # before any DDP wrapper: the sandwich rule counts its steps here
        if world.distributed:
            to_synced_batchnorm(model)  # batch statistics of the global batch, as one process would see
            logits_module = torch.nn.parallel.DistributedDataParallel(
                logits_module, device_ids=[torch_device.index] if torch_device.type == "cuda" else None
            )
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate(config, 0.0), momentum=config.momentum,
                                    nesterov=config.nesterov, weight_decay=config.weight_decay)
        position = EpochPosition(epoch=0)
        if checkpoint is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            position = EpochPosition(**checkpoint["position"])
            objective_module.step = position.epoch * steps_per_epoch(len(data.train), config.batch_size) + position.step
            if world.is_main:
                truncate_metrics(run_dir, position.epoch)
        elif world.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            _write_config(run_dir, config, model, data, stats)
        images = data.train.images.to(torch_device)
        labels = data.train.labels.to(torch_device)

        def save(position: EpochPosition) -> None:
            if world.is_main:
                state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "position": position.to_dict(), "train_config": config.to_dict()}
                save_checkpoint(state, checkpoint_path)

        with StopRequest() as stop:
            while position.epoch < config.epochs:
                try:
                    finished = train_epoch(
                        logits_module, loss_fn, optimizer, data, images, labels, stats, config, position,
                        shard=(world.rank, world.size), should_stop=lambda: any_rank(stop.requested, world, torch_device),
                        show_progress=show_progress and world.is_main,
                    )
                except NonFiniteLoss as error:
                    raise NonFiniteLoss(f"{error}; the last good checkpoint is kept in {run_dir}") from None
                if not finished:
                    save(position)
                    raise Interrupted(f"stopped at epoch {position.epoch + 1}, step {position.step}; "
                                      f"continue with: dnnet train --resume --out {run_dir}")
                if world.is_main:
                    _log_epoch(model, data, stats, config, position, run_dir, torch_device, show_progress)
                position = EpochPosition(epoch=position.epoch + 1)
                save(position)
        summary = _final_grids(model, data, stats, config, run_dir, torch_device) if world.is_main else {}
        if world.distributed:
            # the other ranks wait for the main one's evaluation, so that all leave the group together:
            # a rank tearing down gloo while another still holds it could abort on exit
            torch.distributed.barrier()
        return summary
    finally:
        leave_world(world)


def _checkpoint_to_resume(run_dir: Path, config: TrainConfig, resume: bool) -> dict[str, Any] | None:
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if resume:
        if not checkpoint_path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {CHECKPOINT_FILE} in {run_dir}")
        return load_checkpoint(checkpoint_path)
    if checkpoint_path.exists():
        raise ValueError(f"{run_dir} already holds a run; pass --resume to continue it, or choose another --out")
    return None


def _write_config(run_dir: Path, config: TrainConfig, model, data: DataSplits, stats) -> None:
    record = {
        "train_config": config.to_dict(),
        "weighting_resolved": resolve_weighting(model.config, config.weighting),
        "channels_last_resolved": config.uses_channels_last(next(model.parameters()).device),
        "net_config": model.config.to_dict(),
        "data": {"name": data.name, "classes": data.classes, "image_shape": list(data.image_shape), "flip": data.flip,
                 "train": len(data.train), "val": len(data.val), "test": len(data.test),
                 "mean": stats[0], "std": stats[1]},
        "provenance": provenance(),
    }
    write_run_config(run_dir, record)


def _log_epoch(model, data, stats, config, position, run_dir, device, show_progress) -> None:
    # with running statistics as trained (a sandwich run is recalibrated per width only at the end: cheaper).
    # A dense network's widths are not nested: each would cost a pass, so only the full width is followed here
    full_width = None if model.config.causal else model.config.groups
    val = grid_accuracy(model, data.val, *stats, batch_size=config.eval_batch_size, device=device,
                        channels_last=config.uses_channels_last(device), width=full_width)
    row = {
        "epoch": position.epoch + 1,
        "lr": epoch_learning_rate(config, position.epoch, steps_per_epoch(len(data.train), config.batch_size)),
        "train_loss": position.loss_sum / max(position.seen, 1),
        "train_acc_full": position.correct / max(position.seen, 1),
        "val_acc_full": val[-1, -1].item(),
        "val_acc_mean_cells": val.mean().item(),
        "val_acc_smallest": val[0, 0].item(),
        "seconds": round(position.seconds, 3),
        "images_per_s": round(position.seen / max(position.seconds, 1e-9), 1),
    }
    append_metrics(run_dir, row)
    if show_progress:
        print(f"epoch {row['epoch']}/{config.epochs}: loss {row['train_loss']:.3f}, train acc {row['train_acc_full']:.3f}, "
              f"val acc full {row['val_acc_full']:.3f} (mean over cells {row['val_acc_mean_cells']:.3f}), "
              f"{row['images_per_s']:.0f} img/s", flush=True)


def _final_grids(model, data, stats, config, run_dir, device) -> dict[str, Any]:
    meta = {"preset": config.preset, "train_config": config.to_dict(), "provenance": provenance()}
    summary = {}
    for split in ("val", "test"):
        accuracy = split_accuracy(model, config, data, stats, split, device)
        write_accuracy_grid(accuracy, run_dir, split, meta)
        summary[split] = accuracy
    mark_finished(run_dir, {"epochs": config.epochs, "grids": list(summary)})
    return summary


__all__ = ["Interrupted", "NonFiniteLoss", "train"]
