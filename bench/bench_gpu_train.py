"""Training speed of the eager and the compiled step (`dnnet train --compile`), through the run's own epoch loop.

    python bench/bench_gpu_train.py --out docs/bench_gpu_train.json                    # on a GPU: batch 512
    python bench/bench_gpu_train.py --tiny --images 256 --batch-size 64 --out /tmp/b.json   # the CPU test

Kinds of step (`--kinds`): eager, compiled (`--compile`), and compiled with CUDA graphs (`--compile-mode
cuda-graphs`, which torch records on a GPU only). Cases: `dnnet_resnet32_g22` with the joint loss over all 352 cells
(the default recipe), the same network trained on its final cell alone, and the plain ResNet-32. Each case and step
kind trains two epochs over random uint8 images (the first compiles and warms up; the second is timed, its images/s
from the epoch loop's own clock, which waits for the device at the epoch's end). Writes one JSON object with every
case's images/s and compile time, as each finishes (a deadline cuts the list short, never a case in half).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from dnnet.data.splits import DataSplits, ImageDataset
from dnnet.train.distributed import World
from dnnet.train.epoch_loop import train_epoch
from dnnet.train.epoch_position import EpochPosition
from dnnet.train.objective import StepPlanner, build_objective
from dnnet.train.setup import setup_model
from dnnet.train.train_config import COMPILE_MODES, TrainConfig
from dnnet.train.training_setup import TrainingSetup
from dnnet.train.training_step import build_training_step
from dnnet.utils.provenance import provenance

CASES = {  # name: (preset, settings)
    "dnnet_joint": ("dnnet_resnet32_g22", {}),
    "dnnet_final_cell": ("dnnet_resnet32_g22", {"weighting": "final"}),
    "plain": ("resnet32", {}),
    # the ImageNet family (with --image-size 224: the speed of an ImageNet epoch)
    "dnnet_resnet18_joint": ("dnnet_resnet18_g8", {}),
    "resnet18_plain": ("resnet18", {}),
    "dnnet_resnet50_joint": ("dnnet_resnet50_g8", {}),
    "resnet50_plain": ("resnet50", {}),
}
TINY = {"dnnet_resnet32_g22": "dnnet_resnet8_g4", "resnet32": "resnet20",  # the CPU test's stand-ins
        "dnnet_resnet18_g8": "dnnet_resnet8_g4", "resnet18": "resnet20", "dnnet_resnet50_g8": "dnnet_resnet8_g4",
        "resnet50": "resnet20"}
KINDS = {"eager": {}, "compiled": {"compile": True}, "cuda-graphs": {"compile": True, "compile_mode": "cuda-graphs"}}


def random_data(count: int, size: int, classes: int = 10, seed: int = 0) -> DataSplits:
    """Random images and labels: the speed of a step does not depend on what the pixels show, but the classifiers'
    size does on the number of classes."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, classes, (count,), generator=generator)
    split = ImageDataset(images, labels, [str(c) for c in range(classes)])
    return DataSplits("random", split, split.subset(torch.arange(2)), split.subset(torch.arange(2)), flip=True)


def measure(preset: str, settings: dict, kind: str, args: argparse.Namespace, device: torch.device) -> dict:
    """Trains two epochs of `args.images` random images; images/s of the second, seconds of the first (compiling)."""
    config = TrainConfig.from_flat(preset=preset, data="random", batch_size=args.batch_size, epochs=2, **KINDS[kind], **settings)
    data = random_data(args.images, args.image_size, args.classes)
    model = setup_model(config, data, device)
    forward, loss_fn = build_objective(model, config)
    runtime = config.runtime
    step = build_training_step(forward, loss_fn.to(device), device, config.execution.amp, runtime.compile,
                               COMPILE_MODES[runtime.compile_mode])
    planner = StepPlanner.for_run(config, model.config)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.optimiser.scaled_lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    run = TrainingSetup(World(), device, data, ([0.5] * 3, [0.25] * 3), model, step, planner, optimizer,
                        EpochPosition(epoch=0), data.train.images.to(device), data.train.labels.to(device), run_id=None)
    seconds = []
    for epoch in range(2):
        run.position = position = EpochPosition(epoch=epoch)
        train_epoch(run, config, show_progress=False)
        seconds.append(position.seconds)
    return {"preset": preset, "settings": settings, "compile": config.runtime.compile, "compile_mode": config.runtime.compile_mode,
            "compile_failed": getattr(step, "failed", None), "first_epoch_seconds": round(seconds[0], 2),
            "images_per_s": round(position.seen / seconds[1], 1), "steps": position.step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--images", type=int, default=512 * 40, help="images per epoch (40 steps of 512 by default)")
    parser.add_argument("--cases", default="dnnet_joint,dnnet_final_cell,plain", help=f"a comma-separated list of {', '.join(CASES)}")
    parser.add_argument("--image-size", type=int, default=32, help="side of the random square images (default 32)")
    parser.add_argument("--classes", type=int, default=10, help="classes of the random labels (default 10; ImageNet 1000)")
    parser.add_argument("--kinds", default="eager,compiled", help=f"a comma-separated list of {', '.join(KINDS)}")
    parser.add_argument("--deadline-s", type=float, default=float("inf"), help="start no case after this many seconds")
    parser.add_argument("--tiny", action="store_true", help="small stand-in networks (the CPU test)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as `dnnet train` sets it
    record = {"command": " ".join(sys.argv), "batch_size": args.batch_size, "images_per_epoch": args.images,
              "image_size": args.image_size, "classes": args.classes,
              "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "results": {}, "provenance": provenance()}
    start = time.perf_counter()
    for kind in args.kinds.split(","):
        for case in args.cases.split(","):
            if time.perf_counter() - start > args.deadline_s:
                record["cut_short_at"] = f"{case}/{kind}"
                break
            preset, settings = CASES[case]
            preset = TINY[preset] if args.tiny else preset
            result = measure(preset, settings, kind, args, device)
            record["results"][f"{case}/{kind}"] = result
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record, indent=2) + "\n")
            print(f"{case}/{kind}: {result['images_per_s']} images/s (first epoch {result['first_epoch_seconds']} s)", flush=True)
    ratios = {}
    for kind in KINDS:
        r = {k.split("/")[0]: v["images_per_s"] for k, v in record["results"].items() if k.endswith("/" + kind)}
        if {"dnnet_joint", "dnnet_final_cell"} <= r.keys():
            ratios[f"{kind}: joint step / final-cell step"] = round(r["dnnet_final_cell"] / r["dnnet_joint"], 3)
        if {"dnnet_joint", "plain"} <= r.keys():
            ratios[f"{kind}: dnnet joint step / plain step"] = round(r["plain"] / r["dnnet_joint"], 3)
    record["time_ratios"] = ratios
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({"time_ratios": ratios}))


if __name__ == "__main__":
    main()
