"""One training epoch over in-memory data, resumable at any step."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from dnnet.data import DataSplits, augment, normalize
from dnnet.train.lr_schedule import step_learning_rate
from dnnet.train.progress import EpochProgress
from dnnet.train.train_config import TrainConfig


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


@dataclass
class EpochPosition:
    """Where an epoch stands; saved in a checkpoint so an interrupted epoch resumes exactly."""

    epoch: int  # 0-based epoch in progress
    step: int = 0  # batches done in this epoch
    generator_state: torch.Tensor | None = None  # augmentation RNG after `step` batches
    loss_sum: float = 0.0
    correct: int = 0  # of the full network on augmented training images
    seen: int = 0
    seconds: float = 0.0  # spent on the `step` batches, across interruptions: `seen / seconds` is the epoch's speed

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "generator_state": self.generator_state,
                "loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen, "seconds": self.seconds}


def steps_per_epoch(size: int, batch_size: int) -> int:
    """Full batches in an epoch of `size` images: the last short batch is dropped."""
    return size // min(batch_size, size)


def epoch_order(size: int, batch_size: int, seed: int, epoch: int) -> list[torch.Tensor]:
    """The batches of an epoch: a permutation fixed by (seed, epoch); the last short batch dropped."""
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    batch_size = min(batch_size, size)
    return [order[i * batch_size : (i + 1) * batch_size] for i in range(steps_per_epoch(size, batch_size))]


def augmentation_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch + 500_009)


def train_epoch(
    logits_module: nn.Module,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DataSplits,
    images_on_device: torch.Tensor,
    labels_on_device: torch.Tensor,
    stats: tuple[list[float], list[float]],
    config: TrainConfig,
    position: EpochPosition,
    shard: tuple[int, int] = (0, 1),
    should_stop=lambda: False,
    show_progress: bool = True,
) -> bool:
    """Runs the rest of the epoch from `position` (updated after every step).

    `shard` = (rank, world size): each process takes its share of every global batch.
    Returns False when `should_stop()` asked to stop early (Ctrl-C), True at the epoch's end.
    """
    device = images_on_device.device
    batches = epoch_order(len(data.train), config.batch_size, config.seed, position.epoch)
    generator = augmentation_generator(config.seed, position.epoch)
    if position.generator_state is not None:
        generator.set_state(position.generator_state)
    progress = EpochProgress(position.epoch + 1, config.epochs, len(batches), position.step, enabled=show_progress)
    started, seconds_before = time.perf_counter(), position.seconds
    rank, world = shard
    channels_last = config.uses_channels_last(device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda")
    try:
        for step in range(position.step, len(batches)):
            if should_stop():
                return False
            index = batches[step].to(device)
            images = augment(images_on_device[index], generator, flip=data.flip)[rank::world]
            labels = labels_on_device[index][rank::world]
            x = normalize(images, *stats)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            set_learning_rate(optimizer, step_learning_rate(config, position.epoch, step, len(batches)))
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = logits_module(x)
                loss = loss_fn(logits.float(), labels)
            loss_value = loss.item()
            if not torch.isfinite(torch.tensor(loss_value)):
                raise NonFiniteLoss(f"loss became {loss_value} at epoch {position.epoch + 1}, step {step + 1}")
            loss.backward()
            optimizer.step()
            position.step = step + 1
            position.generator_state = generator.get_state()
            position.loss_sum += loss_value * len(labels)
            position.correct += int((logits[:, -1, -1].argmax(-1) == labels).sum())
            position.seen += len(labels)
            position.seconds = seconds_before + time.perf_counter() - started
            progress.update(position.step, position.loss_sum / position.seen, position.correct / position.seen, len(labels) * world)
    finally:
        progress.close()
    return True


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
