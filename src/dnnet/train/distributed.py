"""Multi-process training on PyTorch's own DistributedDataParallel, started with torchrun."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from dnnet.utils.device_choice import chosen_device


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def join_world(device_kind: str) -> World:
    """Joins the process group torchrun describes in the environment (nccl on GPU, gloo on CPU)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return world


def leave_world(world: World) -> None:
    """Leaves torchrun's process group, if this process joined one."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def pick_device(world: World, requested: str | None) -> torch.device:
    """The device of this process: `requested` ("cpu", "cuda", "cuda:1"), or cuda if available, else cpu.

    "cuda" without an index means this process's own GPU, `cuda:LOCAL_RANK`: torchrun starts one
    process per GPU, and an index-less device would put every process on the current one.
    """
    device = chosen_device(requested)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", world.local_rank)
    return device


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank if any rank raised the flag (e.g. Ctrl-C on one of them)."""
    if not world.distributed:
        return flag
    tensor = torch.tensor([int(flag)], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())
