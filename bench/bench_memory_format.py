"""Training-step time in the channels-last memory format against the default (NCHW), per network.

What `channels_last` (TrainConfig.execution) defaults to is chosen from this measurement, per thread count.
Medians of interleaved repetitions, one run.

    python bench/bench_memory_format.py --threads 1 --out docs/memory_format/threads_1.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import interleaved_medians, train_step  # noqa: E402

from dnnet.models import create_model  # noqa: E402
from dnnet.runs.train_config import TrainConfig  # noqa: E402
from dnnet.train.objective import build_objective  # noqa: E402
from dnnet.utils.provenance import provenance  # noqa: E402

# the cpu protocol's networks, and the paper's network with its plain comparator
NETWORKS = [("dnnet_resnet20_g8", None), ("resnet20", 6), ("resnet20_anytime", 6), ("resnet20", 2),
            ("dnnet_resnet32_g22", None), ("resnet32", 16)]


def training_step(preset: str, groups: int | None, channels_last: bool, batch: int):
    torch.manual_seed(0)
    model = create_model(preset, **({} if groups is None else {"groups": groups}))
    logits_module, loss_fn = build_objective(model, TrainConfig.from_flat())
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return train_step(model, lambda: loss_fn(logits_module(x).float(), y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the CPU trainings run)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    record = {"provenance": provenance(), "batch": args.batch, "repeats": args.repeats, "rows": []}
    for preset, groups in NETWORKS:
        steps = {layout: training_step(preset, groups, layout == "channels_last", args.batch) for layout in ("nchw", "channels_last")}
        seconds = interleaved_medians(steps, args.repeats, warmup=2, device=torch.device("cpu"))
        row = {"preset": preset, "groups": groups, "ms_nchw": round(1e3 * seconds["nchw"], 1),
               "ms_channels_last": round(1e3 * seconds["channels_last"], 1),
               "channels_last_over_nchw": round(seconds["channels_last"] / seconds["nchw"], 2)}
        record["rows"].append(row)
        print(row, flush=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
