"""A whole training run, as named phases: setup, train an epoch, log it, save, and the final evaluation."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from dnnet.data import DataSplits
from dnnet.errors import Interrupted, MissingFile, NonFiniteLoss, UserError
from dnnet.evaluation import grid_accuracy, write_accuracy_grid
from dnnet.layers.prefix_batchnorm import to_local_batchnorm
from dnnet.runs.run_files import CHECKPOINT_FILE, CONFIG_FILE, load_checkpoint
from dnnet.runs.run_lock import run_lock
from dnnet.runs.run_record import read_config_values
from dnnet.runs.split_accuracy import split_accuracy
from dnnet.runs.train_config import TrainConfig
from dnnet.train.distributed import leave_world
from dnnet.train.epoch_loop import train_epoch
from dnnet.train.epoch_position import EpochPosition
from dnnet.train.lr_schedule import epoch_learning_rate
from dnnet.train.run_directory import append_metrics, mark_finished, save_checkpoint
from dnnet.train.run_ownership import check_checkpoint_belongs, prepare_new_run, remove_orphaned_temporaries
from dnnet.train.setup import setup, setup_world
from dnnet.train.stop_request import StopRequest, stop_requested
from dnnet.train.tensorboard_log import check_tensorboard_installed, log_epoch_scalars
from dnnet.train.training_setup import TrainingSetup
from dnnet.utils.progress_bar import on_terminal
from dnnet.utils.provenance import provenance


def train(config: TrainConfig, run_dir: Path, resume: bool = False, device: str | None = None,
          show_progress: bool = True, cache_dir: Path | None = None, data: DataSplits | None = None,
          compile_backend: str | Callable = "inductor") -> dict[str, Any]:
    """Trains (or with `resume` continues) the run in `run_dir`; returns the final summary.

    `compile_backend`: torch.compile's backend when the config compiles the step ("inductor" generates fused kernels;
    "aot_eager" traces the same graphs and runs them unfused, in seconds).

    Raises `Interrupted` after saving on Ctrl-C and `NonFiniteLoss` (keeping the last good
    checkpoint) when the loss is NaN or infinite; refuses a `run_dir` another live process is training into.
    """
    run_dir = Path(run_dir)
    if config.runtime.tensorboard:  # a resume takes it from the caller too (a runtime setting)
        check_tensorboard_installed()
    created = not run_dir.exists()
    try:
        with run_lock(run_dir, advice=", or train into another --out"):
            return _train(config, run_dir, resume, device, show_progress, cache_dir, data, compile_backend)
    except BaseException:
        if created:  # a run that failed before writing anything (bad data, a bad setting) leaves no empty folder
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise


def _train(config: TrainConfig, run_dir: Path, resume: bool, device: str | None, show_progress: bool,
           cache_dir: Path | None, data: DataSplits | None, compile_backend: str | Callable) -> dict[str, Any]:
    checkpoint = checkpoint_to_resume(run_dir, resume)
    if checkpoint is not None:
        # the saved settings, run the caller's way (RuntimeSettings cannot change the numbers)
        config = dataclasses.replace(TrainConfig.from_dict(checkpoint["train_config"]), runtime=config.runtime)
        config = in_the_format_it_began(config, run_dir)
    cudnn_benchmark = torch.backends.cudnn.benchmark  # a run may set it (GPU); the caller gets theirs back
    world, torch_device = setup_world(device)
    try:
        run = setup(config, run_dir, checkpoint, world, torch_device, cache_dir, data, compile_backend)
        with StopRequest() as stop:
            while run.position.epoch < config.optimiser.epochs:
                if not run_epoch(run, config, stop, run_dir, show_progress):
                    save(run, config, run_dir)
                    raise Interrupted(f"stopped at epoch {run.position.epoch + 1}, step {run.position.step}; "
                                      f"continue with: dnnet train --resume --out {run_dir}")
                if world.is_main:
                    log_epoch(run, config, run_dir, show_progress)
                run.position = EpochPosition(epoch=run.position.epoch + 1)
                save(run, config, run_dir)
        summary = final_evaluation(run, config, run_dir, show_progress) if world.is_main else {}
        if world.distributed:
            # the other ranks wait for the main one's evaluation, so that all leave the group together:
            # a rank tearing down gloo while another still holds it could abort on exit
            torch.distributed.barrier()
        return summary
    finally:
        leave_world(world)
        torch.backends.cudnn.benchmark = cudnn_benchmark


def in_the_format_it_began(config: TrainConfig, run_dir: Path) -> TrainConfig:
    """A resumed run whose memory format was left to the rule keeps the one it began in (config.json records it): the
    rule reads the thread count, which a resume may change."""
    if config.execution.channels_last is not None:
        return config
    began = read_config_values(run_dir)[0].get("channels_last_resolved")
    return config if began is None else config.replaced(channels_last=began)


def checkpoint_to_resume(run_dir: Path, resume: bool) -> dict[str, Any] | None:
    """The checkpoint `--resume` continues from; None for a new run (refused if `run_dir` already holds one)."""
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if resume:
        if not checkpoint_path.is_file():
            started = (run_dir / CONFIG_FILE).is_file()  # stopped before its first epoch ended: nothing was saved
            raise MissingFile(f"nothing to resume: no {CHECKPOINT_FILE} in {run_dir}" + (
                " (the run stopped before its first checkpoint); start it over: the same command without --resume"
                if started else ""))
        checkpoint = load_checkpoint(checkpoint_path)
        check_checkpoint_belongs(run_dir, checkpoint)
        remove_orphaned_temporaries(run_dir)
        return checkpoint
    if checkpoint_path.exists():
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it, or choose another --out")
    prepare_new_run(run_dir)
    return None


def run_epoch(run: TrainingSetup, config: TrainConfig, stop: StopRequest, run_dir: Path, show_progress: bool) -> bool:
    """The rest of the epoch at `run.position`; False if a Ctrl-C stopped it early."""
    try:
        return train_epoch(run, config, should_stop=lambda step: stop_requested(stop, run.world, run.device, step),
                           show_progress=show_progress and run.world.is_main)
    except NonFiniteLoss as error:
        raise NonFiniteLoss(f"{error}; the last good checkpoint is kept in {run_dir}") from None


def save(run: TrainingSetup, config: TrainConfig, run_dir: Path) -> None:
    """The checkpoint at `run.position`, written by the main process; with `ema`, the average beside the weights the
    optimizer steps (which a resume continues from)."""
    if run.world.is_main:
        state = {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
                 "position": run.position.to_dict(), "train_config": config.to_dict(), "run_id": run.run_id}
        if run.average is not None:
            state["ema"] = run.average.state_dict()
        save_checkpoint(state, run_dir / CHECKPOINT_FILE)


def log_epoch(run: TrainingSetup, config: TrainConfig, run_dir: Path, show_progress: bool) -> None:
    """Appends the finished epoch's row to the metrics, with the validation accuracy of the running statistics (of the
    weights' average with `ema`) and, with a teacher, the time its forward passes took."""
    model, position, device = run.evaluated_model, run.position, run.device
    # with running statistics as trained (a sandwich run is recalibrated per width only at the end: cheaper).
    # A dense network's widths are not nested: each would cost a pass, so only the full width is followed here (a
    # width-conditioned network trains every width: each of its widths is validated, one pass each)
    full_width = None if model.config.causal else model.config.groups
    val = grid_accuracy(model, run.data.val, *run.stats, batch_size=config.execution.eval_batch_size, device=device,
                        channels_last=config.uses_channels_last(device), width=full_width,
                        show_progress=show_progress and on_terminal())  # a log gets the epoch's line, not two more
    row = {
        "epoch": position.epoch + 1,
        "lr": epoch_learning_rate(config, position.epoch, position.step),
        "train_loss": position.loss_sum / max(position.seen, 1),
        "train_acc_full": position.correct / max(position.seen, 1),
        "val_acc_full": val[-1, -1].item(),
        "val_acc_mean_cells": val.mean().item(),
        "val_acc_smallest": val[0, 0].item(),
        "seconds": round(position.seconds, 3),
        # every process trains an equal share of each global batch; loss and accuracy are the main process's share
        "images_per_s": round(position.seen * run.world.size / max(position.seconds, 1e-9), 1),
    }
    if run.teacher is not None:  # what the teacher costs: its share of the epoch's training time
        row["teacher_seconds"] = round(position.teacher_seconds, 3)
        row["teacher_share"] = round(position.teacher_seconds / max(position.seconds, 1e-9), 4)
    append_metrics(run_dir, row)
    if config.runtime.tensorboard:
        log_epoch_scalars(run_dir, row)
    if show_progress:
        print(f"epoch {row['epoch']}/{config.optimiser.epochs}: loss {row['train_loss']:.3f}, train acc {row['train_acc_full']:.3f}, "
              f"val acc full {row['val_acc_full']:.3f} (mean over cells {row['val_acc_mean_cells']:.3f}), "
              f"{row['images_per_s']:.0f} img/s", flush=True)


def final_evaluation(run: TrainingSetup, config: TrainConfig, run_dir: Path, show_progress: bool = True) -> dict[str, Any]:
    """Validation and test grids (of the weights' average with `ema`), then the finished marker; run by the main
    process alone."""
    model = to_local_batchnorm(run.evaluated_model)  # the other processes take no part: no collective may run
    meta = {"preset": config.preset, "train_config": config.to_dict(), "provenance": provenance()}
    summary = {}
    for split in ("val", "test"):
        accuracy = split_accuracy(model, config, run.data, run.stats, split, run.device, show_progress)
        write_accuracy_grid(accuracy, run_dir, split, meta)
        summary[split] = accuracy
    mark_finished(run_dir, {"epochs": config.optimiser.epochs, "grids": list(summary)})
    return summary


__all__ = ["Interrupted", "NonFiniteLoss", "train"]
