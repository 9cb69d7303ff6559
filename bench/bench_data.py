"""Data-side timings: augmentation throughput, first and cached load of the CIFAR-10 JPEG archive,
training-epoch throughput and the demo's wall time, each recorded with the machine.

    python bench/bench_data.py --archive ../shared/data/cifar10-jpg.tar.gz --out docs/benchmarks_data.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from dnnet.data import augment, load_data, normalize
from dnnet.train import TrainConfig, train
from dnnet.utils.provenance import provenance


def augmentation_images_per_s(batch: int, repeats: int) -> dict:
    images = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8)
    generator = torch.Generator().manual_seed(0)
    mean, std = [0.5] * 3, [0.25] * 3
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        normalize(augment(images, generator), mean, std)
        times.append(time.perf_counter() - start)
    return {"batch": batch, "median_seconds": statistics.median(times), "images_per_s": batch / statistics.median(times)}


def archive_load_seconds(archive: Path) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        data = load_data(str(archive), cache_dir=Path(cache))
        first = time.perf_counter() - start
        start = time.perf_counter()
        load_data(str(archive), cache_dir=Path(cache))
        cached = time.perf_counter() - start
    return {"first_seconds": first, "cached_seconds": cached, "train": len(data.train), "val": len(data.val), "test": len(data.test)}


def epoch_images_per_s(archive: Path, preset: str) -> dict:
    data = load_data(str(archive))
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig.from_flat(preset=preset, data=str(archive), epochs=1, batch_size=128)
        start = time.perf_counter()
        train(config, Path(out) / "run", show_progress=False, data=data)
        seconds = time.perf_counter() - start
        row = json.loads((Path(out) / "run" / "metrics.jsonl").read_text().splitlines()[0])
    return {"preset": preset, "train_images_per_s": row["images_per_s"], "epoch_seconds": row["seconds"],
            "epoch_with_final_evaluation_seconds": seconds}


def demo_seconds() -> dict:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dnnet.cli.main", "demo", "--out", f"{out}/demo", "--quiet"], check=True,
                       capture_output=True)
        return {"seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=Path("../shared/data/cifar10-jpg.tar.gz"))
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_data.json"))
    args = parser.parse_args()
    result = {
        "command": f"python bench/bench_data.py --archive {args.archive} --out {args.out}",
        "augmentation": augmentation_images_per_s(batch=512, repeats=20),
        "archive_load": archive_load_seconds(args.archive),
        "training_epoch": epoch_images_per_s(args.archive, "dnnet_resnet20_g8"),
        "demo": demo_seconds(),
        "provenance": provenance(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
