"""One training epoch over in-memory data, resumable at any step."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

from dnnet.data import augment, normalize
from dnnet.data.augment import to_device_async
from dnnet.errors import NonFiniteLoss
from dnnet.runs.train_config import TrainConfig
from dnnet.train.epoch_position import EpochPosition
from dnnet.train.lr_schedule import step_learning_rate
from dnnet.train.progress import EpochProgress
from dnnet.train.random_streams import random_stream
from dnnet.train.stopwatch import DeviceStopwatch
from dnnet.train.training_setup import TrainingSetup


def steps_per_epoch(size: int, batch_size: int) -> int:
    """Full batches in an epoch of `size` images: the last short batch is dropped."""
    return size // min(batch_size, size)


def epoch_order(size: int, batch_size: int, seed: int, epoch: int) -> list[torch.Tensor]:
    """The batches of an epoch: a permutation fixed by (seed, epoch); the last short batch dropped."""
    order = torch.randperm(size, generator=random_stream(seed, "epoch_order", epoch))
    batch_size = min(batch_size, size)
    return [order[i * batch_size : (i + 1) * batch_size] for i in range(steps_per_epoch(size, batch_size))]


SYNC_EVERY_STEPS = 20  # the host reads loss and accuracy from the device, and processes agree on a Ctrl-C, this often


class DeviceTally:
    """Loss, accuracy and the first non-finite step of an epoch, summed on the device without waiting for it."""

    def __init__(self, position: EpochPosition, device: torch.device) -> None:
        self.loss_sum = torch.tensor(position.loss_sum, dtype=torch.float64, device=device)
        self.correct = torch.tensor(position.correct, dtype=torch.int64, device=device)
        self.first_nonfinite_step = torch.tensor(-1, device=device)
        self.first_nonfinite_loss = torch.tensor(0.0, device=device)

    def add(self, step: int, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        loss = loss.detach()
        self.loss_sum += loss.double() * len(labels)
        self.correct += (logits[:, -1, -1].argmax(-1) == labels).sum()
        unseen = (self.first_nonfinite_step < 0) & ~torch.isfinite(loss)
        self.first_nonfinite_step = torch.where(unseen, step, self.first_nonfinite_step)
        self.first_nonfinite_loss = torch.where(unseen, loss.float(), self.first_nonfinite_loss)

    def read_into(self, position: EpochPosition) -> None:
        """Copies the sums into `position`; raises NonFiniteLoss if a step's loss was NaN or infinite."""
        # note: this is a CPU-GPU sync point
        bad_step = int(self.first_nonfinite_step)
        if bad_step >= 0:
            raise NonFiniteLoss(f"loss became {self.first_nonfinite_loss.item()} at epoch {position.epoch + 1}, step {bad_step + 1}")
        position.loss_sum, position.correct = self.loss_sum.item(), int(self.correct)


def train_epoch(run: TrainingSetup, config: TrainConfig, should_stop: Callable[[int], bool] = lambda step: False,
                show_progress: bool = True) -> bool:
    """Runs the rest of the epoch from `run.position` (updated every SYNC_EVERY_STEPS steps and at the end).

    Each step trains what `run.planner` plans for it (widths, loss weights), through `run.step` (forward pass, joint
    loss, backward pass), on this process's share of the global batch (`run.world`); `run.teacher`'s logits on each
    augmented batch go to the loss (their time counted in `position.teacher_seconds`); `run.average` is updated after
    every optimizer step. `should_stop(step)` is asked before every step; returns False when it asked to stop early
    (Ctrl-C), True at the epoch's end. Raises NonFiniteLoss, at the next read of the tally, if a loss was NaN or
    infinite.
    """
    position, device, teacher = run.position, run.images.device, run.teacher
    # (steps, batch) indices, copied to the device once per epoch
    batches = to_device_async(torch.stack(epoch_order(len(run.data.train), config.optimiser.batch_size, config.seed, position.epoch)),
                              device)
    generator = augmentation_stream(config.seed, position, device)
    progress = EpochProgress(position.epoch + 1, config.optimiser.epochs, len(batches), position.step, enabled=show_progress)
    tally = DeviceTally(position, device)
    started, seconds_before = time.perf_counter(), position.seconds
    teacher_clock, teacher_seconds_before = DeviceStopwatch(device), position.teacher_seconds
    rank, world = run.world.rank, run.world.size
    mean, std = (torch.tensor(values, device=device) for values in run.stats)  # once, not at every step
    channels_last = config.uses_channels_last(device)
    resized_crop = config.dataset.resized_crop

    seen_before = position.seen

    def read_tally() -> None:
        tally.read_into(position)
        position.seconds = seconds_before + time.perf_counter() - started
        position.teacher_seconds = teacher_seconds_before + teacher_clock.seconds()

    try:
        for step in range(position.step, len(batches)):
            if should_stop(step):
                read_tally()
                return False
            index = batches[step]
            images = augment(run.images[index], generator, flip=run.data.flip, resized_crop=resized_crop)[rank::world]
            labels = run.labels[index][rank::world]
            x = normalize(images, mean, std)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            set_learning_rate(run.optimizer, step_learning_rate(config, position.epoch, step, len(batches)))
            run.optimizer.zero_grad(set_to_none=True)
            share_done = (position.epoch + step / len(batches)) / config.optimiser.epochs
            step_plan = run.planner.plan(position.epoch * len(batches) + step, share_done)
            coefficients = None if step_plan.coefficients is None else to_device_async(step_plan.coefficients, device)
            teacher_logits = None if teacher is None else teacher_clock.time(teacher.logits, images)
            loss, logits = run.step(x, labels, step_plan.widths, coefficients, teacher_logits)
            run.optimizer.step()
            if run.average is not None:
                run.average.update()
            tally.add(step, loss, logits, labels)
            position.step = step + 1
            position.generator_state, position.generator_device = generator.get_state(), device.type
            position.seen += len(labels)
            if position.step % SYNC_EVERY_STEPS == 0 or position.step == len(batches):
                read_tally()
                progress.update(position.step, position.loss_sum / position.seen, position.correct / position.seen,
                                (position.seen - seen_before) * world)
    finally:
        progress.close()
    return True


def augmentation_stream(seed: int, position: EpochPosition, device: torch.device) -> torch.Generator:
    """The epoch's augmentation generator on the training device (its random numbers drawn there: no copy per step), at
    `position`. A checkpoint written on another kind of device cannot continue its stream: the rest of that epoch then
    draws from the epoch's fresh stream (said on stderr), and later epochs are as on this device from the start."""
    generator = random_stream(seed, "augmentation", position.epoch, device)
    if position.generator_state is None:
        return generator
    if position.generator_device != device.type:
        print(f"dnnet: the checkpoint's augmentation stream was drawn on {position.generator_device}; epoch "
              f"{position.epoch + 1} continues on {device.type} from a fresh stream", file=sys.stderr)
        return generator
    generator.set_state(position.generator_state)
    return generator


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Sets every parameter group's learning rate (the schedule's rate of this step)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
