"""Benchmarks of the core model, as ratios measured in one run (median of interleaved repetitions).

1. a training step with the joint loss over every cell vs the same network trained on its final cell;
2. a training step of dnnet_resnet32_g22 vs a plain ResNet-32 of about the same needed MACs;
3. evaluating all cells in one pass vs one cell, and vs every sliced sub-network one by one.

    python bench/bench_core.py --out docs/benchmarks_cpu.json   # docs/benchmarks.md quotes the file by hand
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from dnnet import cell_resources, create_model, slice_subnet
from dnnet.loss import JointLoss, cell_weights
from dnnet.utils.provenance import provenance


def timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def interleaved_medians(variants: dict[str, Callable[[], object]], repeats: int, warmup: int, device: torch.device) -> dict:
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            samples[name].append(timed(fn, device))
    return {name: statistics.median(times) for name, times in samples.items()}


def train_step(model: torch.nn.Module, loss_of: Callable[[], torch.Tensor]) -> Callable[[], None]:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_of().backward()
        optimizer.step()

    return step


def bench_training(batch: int, repeats: int, device: torch.device) -> dict:
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    dnnet = create_model("dnnet_resnet32_g22").to(device).train()
    joint = JointLoss(cell_weights(dnnet.config, "uniform")).to(device)
    plain_model = create_model("resnet32").eval()
    plain = slice_subnet(plain_model, 1, 16).to(device).train()  # plain nn.Conv2d ResNet-32, no mask
    variants = {
        "dnnet_joint_all_cells": train_step(dnnet, lambda: joint(dnnet.forward_all(x), y)),
        "dnnet_final_cell_only": train_step(dnnet, lambda: F.cross_entropy(dnnet(x), y)),
        "plain_resnet32": train_step(plain, lambda: F.cross_entropy(plain(x), y)),
    }
    seconds = interleaved_medians(variants, repeats, warmup=2, device=device)
    ours, theirs = cell_resources(dnnet.config, 16, 22), cell_resources(plain_model.config, 1, 16)
    return {
        "batch": batch,
        "seconds": seconds,
        "joint_vs_final_only": seconds["dnnet_joint_all_cells"] / seconds["dnnet_final_cell_only"],
        "dnnet_final_only_vs_plain": seconds["dnnet_final_cell_only"] / seconds["plain_resnet32"],
        "dnnet_joint_vs_plain": seconds["dnnet_joint_all_cells"] / seconds["plain_resnet32"],
        "needed_macs": {"dnnet": ours.macs, "plain": theirs.macs},
        "dense_macs": {"dnnet": ours.dense_macs, "plain": theirs.dense_macs},
    }


@torch.no_grad()
def bench_evaluation(batch: int, repeats: int, device: torch.device) -> dict:
    x = torch.randn(batch, 3, 32, 32, device=device)
    model = create_model("dnnet_resnet32_g22").to(device).eval()
    config = model.config
    subnets = [slice_subnet(model, d, w) for d in range(1, config.num_exits + 1) for w in range(1, config.groups + 1)]

    def every_slice() -> None:
        for subnet in subnets:
            subnet(x)

    variants = {
        "forward_all_352_cells": lambda: model.forward_all(x),
        "one_cell_full_network": lambda: model(x, 16, 22),
        "352_slices_one_by_one": every_slice,
    }
    seconds = interleaved_medians(variants, repeats, warmup=1, device=device)
    return {
        "batch": batch,
        "seconds": seconds,
        "all_cells_vs_one_cell": seconds["forward_all_352_cells"] / seconds["one_cell_full_network"],
        "slices_one_by_one_vs_all_cells": seconds["352_slices_one_by_one"] / seconds["forward_all_352_cells"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_cpu.json"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--eval-batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    result = {
        "command": f"python bench/bench_core.py --device {args.device} --train-batch {args.train_batch} "
        f"--eval-batch {args.eval_batch} --repeats {args.repeats}",
        "device": args.device,
        "repeats": args.repeats,
        "training_step": bench_training(args.train_batch, args.repeats, device),
        "evaluation": bench_evaluation(args.eval_batch, max(3, args.repeats // 2), device),
    }
    write_result(result, args.out)


def write_result(result: dict, out: Path) -> None:
    """`result` with this machine's provenance, as JSON into `out` and on stdout."""
    result = {**result, "provenance": provenance()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
