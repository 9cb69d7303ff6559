"""The paper-protocol run's plan in bench/gpu_paper_run.sh, from its speed phase's file: prints "EPOCHS FLAGS...".

    python bench/gpu_paper_plan.py BENCH_JSON SECONDS_LEFT [MAX_EPOCHS]

The run trains with the fastest kind of step the speed phase measured for `dnnet_resnet32_g22`'s joint loss (eager,
compiled, or compiled with CUDA graphs; a kind whose compiling failed does not count), for as many epochs of 45,000
images as fit in the time left after compiling and evaluating (60 s), at most the paper's 160, at least 1.
"""

from __future__ import annotations

import json
import sys

TRAIN_IMAGES = 45_000  # CIFAR-10's training set less the 5,000 validation images
EVALUATION_S = 60.0  # the grids of validation and test at the end
FLAGS = {"eager": [], "compiled": ["--compile"], "cuda-graphs": ["--compile", "--compile-mode", "cuda-graphs"]}


def plan(results: dict, seconds_left: float, max_epochs: int = 160) -> tuple[int, list[str]]:
    """(epochs, `dnnet train` flags) for the fastest measured kind of the joint step."""
    measured = {kind: results[f"dnnet_joint/{kind}"] for kind in FLAGS
                if f"dnnet_joint/{kind}" in results and not results[f"dnnet_joint/{kind}"].get("compile_failed")}
    if not measured:
        raise SystemExit("the speed phase measured no joint step")
    kind = max(measured, key=lambda k: measured[k]["images_per_s"])
    # compiling costs about the first epoch's time again; eager starts at once
    overhead = EVALUATION_S + (measured[kind]["first_epoch_seconds"] if kind != "eager" else 0.0)
    epochs = int((seconds_left - overhead) * measured[kind]["images_per_s"] / TRAIN_IMAGES)
    return max(1, min(max_epochs, epochs)), FLAGS[kind]


if __name__ == "__main__":
    epochs, flags = plan(json.load(open(sys.argv[1]))["results"], float(sys.argv[2]),
                         int(sys.argv[3]) if len(sys.argv) > 3 else 160)
    print(epochs, *flags)
