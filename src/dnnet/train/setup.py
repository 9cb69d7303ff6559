"""The setup phase of a training run: world, data, model, the cells it trains, loss, optimizer and position."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.data import DataSplits, channel_stats, load_data
from dnnet.data.fingerprint import data_fingerprint
from dnnet.errors import UserError
from dnnet.layers.causal_schemes import set_causal_scheme
from dnnet.layers.prefix_batchnorm import to_synced_batchnorm
from dnnet.models import create_model
from dnnet.models.dnnet import DNNet
from dnnet.runs.run_data import check_same_data, data_source, load_run_data
from dnnet.runs.run_files import CHECKPOINT_FILE, CONFIG_FILE, load_weights
from dnnet.runs.run_record import RunData, RunRecord
from dnnet.runs.train_config import COMPILE_MODES, TrainConfig
from dnnet.train.distributed import World, join_world, pick_device
from dnnet.train.epoch_position import EpochPosition
from dnnet.train.lr_schedule import learning_rate
from dnnet.train.objective import (
    StepPlanner,
    auxiliary_gradient_factor,
    build_objective,
    last_exit_gradient_factor,
    resolve_weighting,
    trained_weights,
)
from dnnet.train.run_directory import truncate_metrics, write_run_config
from dnnet.train.teacher import Teacher, check_same_teacher, load_teacher
from dnnet.train.training_setup import TrainingSetup
from dnnet.train.training_step import build_training_step
from dnnet.train.weight_average import WeightAverage
from dnnet.utils.device_choice import physical_memory_bytes
from dnnet.utils.provenance import provenance


def setup_world(device: str | None) -> tuple[World, torch.device]:
    """Joins torchrun's process group (if any) and picks this process's device, made current on GPU."""
    world = join_world("cuda" if torch.cuda.is_available() and device != "cpu" else "cpu")
    torch_device = pick_device(world, device)
    if torch_device.type == "cuda":
        torch.cuda.set_device(torch_device)  # collectives and un-indexed allocations go to this process's GPU
        torch.backends.cudnn.benchmark = True  # the shapes of a run never change: pick each convolution's fastest kernel once
    return world, torch_device


def setup(config: TrainConfig, run_dir: Path, checkpoint: dict[str, Any] | None, world: World, device: torch.device,
          cache_dir: Path | None = None, data: DataSplits | None = None,
          compile_backend: str | Callable = "inductor") -> TrainingSetup:
    """Builds the run's state; from `checkpoint` when resuming, else writing config.json into `run_dir`.
    `compile_backend`: torch.compile's, when the config compiles the step."""
    record = None
    if checkpoint is None:
        data = data or load_data(config.dataset.data, config.dataset.data_dir, cache_dir, config.dataset.val_count, config.seed,
                                 skip_bad_images=config.dataset.skip_bad_images, image_size=config.dataset.image_size)
    else:  # a resume continues on the data it began with, or refuses
        record = RunRecord.read(run_dir)
        if data is None:
            data = load_run_data(config, record.data, cache_dir=cache_dir)
        else:
            check_same_data(data, record.data, config.dataset.data)
    stats = channel_stats(data.train.images)
    teacher = setup_teacher(config, run_dir, record, data, device)
    model = setup_model(config, data, device)
    forward, loss_fn = build_objective(model, config)
    planner = StepPlanner.for_run(config, model.config)
    loss_fn = loss_fn.to(device)
    if world.distributed:
        to_synced_batchnorm(model)  # batch statistics of the global batch, as one process would see
        forward = nn.parallel.DistributedDataParallel(forward, device_ids=[device.index] if device.type == "cuda" else None)
    runtime, optimiser = config.runtime, config.optimiser
    step = build_training_step(forward, loss_fn, device, config.execution.amp, runtime.compile, COMPILE_MODES[runtime.compile_mode],
                               compile_backend)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate(config, 0.0), momentum=optimiser.momentum,
                                nesterov=optimiser.nesterov, weight_decay=optimiser.weight_decay)
    position = EpochPosition(epoch=0)
    run_id = None
    average = None if not optimiser.ema else WeightAverage(model, optimiser.ema)  # of the weights as initialised, on a new run
    if checkpoint is not None:
        load_weights(model, checkpoint, Path(run_dir) / CHECKPOINT_FILE)
        if average is not None:
            load_weights(average.module, checkpoint, Path(run_dir) / CHECKPOINT_FILE, key="ema")
        optimizer.load_state_dict(checkpoint["optimizer"])
        position = EpochPosition(**checkpoint["position"])
        if world.is_main:
            truncate_metrics(run_dir, position.epoch)
        run_id = checkpoint.get("run_id")
    elif world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        record = run_config_record(config, model, data, stats, teacher)
        run_id = record.run_id
        write_run_config(run_dir, record)
    return TrainingSetup(world, device, data, stats, model, step, planner, optimizer, position,
                         data.train.images.to(device), data.train.labels.to(device), run_id, teacher, average)


def setup_teacher(config: TrainConfig, run_dir: Path, record: RunRecord | None, data: DataSplits,
                  device: torch.device) -> Teacher | None:
    """The run's teacher, if it has one; a resumed run (`record`: its config.json) reloads the folder it began with,
    resolved, and refuses it if its weights have changed since."""
    if config.targets.teacher is None:
        return None
    recorded = None if record is None else record.teacher
    if record is not None and recorded is None:
        raise UserError(f"{run_dir / CONFIG_FILE} records no teacher, but its settings name one: it was edited")
    teacher = load_teacher(config.targets.teacher if recorded is None else recorded.source, data, device,
                           bf16_autocast=config.execution.amp and device.type == "cuda", channels_last=config.uses_channels_last(device))
    if recorded is not None:
        check_same_teacher(teacher, recorded, run_dir)
    return teacher


def setup_model(config: TrainConfig, data: DataSplits, device: torch.device) -> DNNet:
    """The preset's network for the data's shape, initialised from `config.seed`, on `device`."""
    channels, size, _ = data.image_shape
    settings = {"num_classes": len(data.classes), "in_channels": channels, "image_size": size}
    settings.update({} if config.groups is None else {"groups": config.groups})
    with torch.device("meta"):  # the architecture only: no memory, and no draw from the seed's generator
        architecture = create_model(config.preset, **settings).config
    every_width = trains_every_width(architecture, config)
    if config.cell_heads and every_width:
        settings["cell_heads"] = True
    if config.width_conditioning and not every_width:
        raise UserError(f"width_conditioning needs the joint objective over every width of a channel-causal network; "
                        f"{config.preset!r} with objective {config.objective.kind!r} does not train that way")
    if config.width_conditioning:
        settings["width_conditioning"] = True
    check_training_fits_memory(config.preset, settings)
    torch.manual_seed(config.seed)  # after the probe above: the init never depends on a setting it does not use
    model = create_model(config.preset, **settings)
    set_causal_scheme(model, config.execution.causal_scheme)  # how it executes: not in its weights
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if config.uses_channels_last(device) else model


def check_training_fits_memory(preset: str, settings: dict[str, Any]) -> None:
    """Refuses a network whose weights, gradients, momentum and weight average alone would take more than half of this
    machine's memory (`--groups 1000000` was an allocator traceback asking for 36 TB)."""
    with torch.device("meta"):
        params = sum(p.numel() for p in create_model(preset, **settings).parameters())
    physical = physical_memory_bytes()
    needed = params * 4 * 4  # float32 weights, their gradients, the momentum and the moving average
    if physical and needed > physical / 2:
        raise UserError(f"{preset} with these settings has {params:,} parameters: training needs about "
                        f"{needed / 2**30:,.1f} GiB for them alone, more than half of this machine's {physical / 2**30:,.1f} GiB")


def trains_every_width(model_config: NetConfig, config: TrainConfig) -> bool:
    """Whether a classifier per cell would learn: a causal network whose joint loss trains its narrower widths too
    (a dense one trains each width by its own pass, brute force; a full-width run never trains the others)."""
    return model_config.causal and config.objective.kind == "joint" and trained_weights(model_config, config).shape[1] > 1


def run_config_record(config: TrainConfig, model: DNNet, data: DataSplits,
                      stats: tuple[list[float], list[float]], teacher: Teacher | None = None) -> RunRecord:
    """What config.json holds: the resolved settings (the joint objective's weights and factors; the sandwich rule has
    none), the architecture, the data, the teacher and provenance."""
    resolved = {}
    if config.objective.kind == "joint":
        weights = trained_weights(model.config, config)
        resolved = {"weighting_resolved": resolve_weighting(model.config, config.objective.weighting),
                    "auxiliary_gradient_resolved": auxiliary_gradient_factor(weights, config.objective.auxiliary_gradient),
                    "last_exit_gradient_resolved": last_exit_gradient_factor(weights, config.objective.last_exit_gradient)}
    return RunRecord(
        run_id=uuid.uuid4().hex,  # tells this run's checkpoints from another's with the same settings
        train_config=config,
        **resolved,
        channels_last_resolved=config.uses_channels_last(next(model.parameters()).device),
        net_config=model.config,
        data=RunData(name=data.name, classes=tuple(data.classes), image_shape=tuple(data.image_shape), flip=data.flip,
                     train=len(data.train), val=len(data.val), test=len(data.test), mean=tuple(stats[0]), std=tuple(stats[1]),
                     skipped_images=len(data.skipped_images), skipped_images_first=tuple(data.skipped_images[:20]),
                     source=data_source(config.dataset.data), fingerprint=data_fingerprint(data)),
        teacher=None if teacher is None else teacher.record(),
        provenance=provenance(),
    )
