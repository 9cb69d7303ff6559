"""The recipe arms' plan in bench/gpu_session.sh, from the speed phase's file: prints "EPOCHS --compile|--no-compile".

    python bench/gpu_session_plan.py BENCH_JSON ARMS_DEADLINE_S

The arms compile only where it paid (at least 1.3x the eager step, compiled in under 150 s). Their epochs (of 45,000
images) are those that four arms sharing the GPU finish before the deadline, after compiling (four at once: 1.5x the
time measured alone) and evaluating (40 s): between 3 and 30.
"""

from __future__ import annotations

import json
import sys

TRAIN_IMAGES = 45_000  # CIFAR-10's training set less the 5,000 validation images
ARMS = 4


def plan(results: dict, deadline_s: float) -> tuple[int, bool]:
    eager, compiled = results.get("dnnet_joint/eager"), results.get("dnnet_joint/compiled")
    speed = eager["images_per_s"] if eager else 3000.0
    use_compile = bool(compiled and not compiled["compile_failed"] and compiled["images_per_s"] > 1.3 * speed
                       and compiled["first_epoch_seconds"] < 150)
    overhead = (1.5 * compiled["first_epoch_seconds"] if use_compile else 20.0) + 40.0
    speed = compiled["images_per_s"] if use_compile else speed
    return max(3, min(30, int((deadline_s - overhead) * speed / ARMS / TRAIN_IMAGES))), use_compile


if __name__ == "__main__":
    epochs, use_compile = plan(json.load(open(sys.argv[1]))["results"], float(sys.argv[2]))
    print(epochs, "--compile" if use_compile else "--no-compile")
