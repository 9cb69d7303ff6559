"""Where a training step's time goes: torch.profiler's self CPU time per operator, grouped into convolution forward,
convolution backward and the rest, for a network and its plain comparator (one thread, NCHW and channels-last).

    python bench/profile_training_step.py --preset dnnet_resnet32_g22 --plain resnet32 --plain-groups 16 --out F.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from causal_conv_schemes import FORMATS, step_variant  # noqa: E402

from dnnet.utils.provenance import provenance  # noqa: E402

CONVOLUTION_FORWARD = {"aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv2d"}
CONVOLUTION_BACKWARD = {"aten::convolution_backward", "aten::mkldnn_convolution_backward"}


def profiled_step(preset: str, groups: int | None, memory_format, batch: int) -> dict[str, float]:
    """Milliseconds of self CPU time in one step (after two warm-up steps), by part."""
    run = step_variant(preset, groups, "dense", memory_format, batch, torch.device("cpu"))
    run()
    run()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        run()
    parts = {"convolution_forward": 0.0, "convolution_backward": 0.0, "rest": 0.0}
    for event in profiler.key_averages():
        part = ("convolution_forward" if event.key in CONVOLUTION_FORWARD else
                "convolution_backward" if event.key in CONVOLUTION_BACKWARD else "rest")
        parts[part] += event.self_cpu_time_total / 1e3
    parts["total"] = sum(parts.values())
    parts["convolution_share"] = (parts["convolution_forward"] + parts["convolution_backward"]) / parts["total"]
    return {name: round(value, 3) for name, value in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="dnnet_resnet32_g22")
    parser.add_argument("--plain", default="resnet32")
    parser.add_argument("--plain-groups", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {}
    for name, groups in ((args.preset, None), (args.plain, args.plain_groups)):
        for fmt, memory_format in FORMATS.items():
            result[f"{name} {fmt}"] = profiled_step(name, groups, memory_format, args.batch_size)
            print(f"{name} {fmt}: {result[f'{name} {fmt}']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"batch_size": args.batch_size, "threads": 1, "milliseconds": result,
                                    "command": " ".join(["python"] + sys.argv), "provenance": provenance()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
