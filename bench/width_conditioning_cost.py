"""What width conditioning costs a training step and an evaluation of every cell, as ratios measured in one run.

The cpu protocol's network (dnnet_resnet20_g8, batch 128, 32x32 images, the default recipe's joint loss over its 80
cells), with and without `width_conditioning`: one pass computes every cell of the nested network; the conditioned one
runs one pass per width. Median of interleaved repetitions, one thread.

    python bench/width_conditioning_cost.py --out docs/width_conditioning_cost_cpu.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import interleaved_medians, train_step, write_result  # noqa: E402  (a sibling script, not a package)

from dnnet import cell_resources, create_model  # noqa: E402
from dnnet.train import TrainConfig  # noqa: E402
from dnnet.train.objective import build_objective  # noqa: E402


def variants(batch: int) -> tuple[dict, dict]:
    """The training steps and the evaluations of every cell, nested and conditioned."""
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    steps, evaluations = {}, {}
    for name, conditioned in (("nested", False), ("conditioned", True)):
        torch.manual_seed(0)
        model = create_model("dnnet_resnet20_g8", cell_heads=True, width_conditioning=conditioned).train()
        forward, loss = build_objective(model, TrainConfig.from_flat(preset="dnnet_resnet20_g8", width_conditioning=conditioned))
        steps[name] = train_step(model, lambda forward=forward, loss=loss: loss(forward(x), y))
        evaluations[name] = torch.no_grad()(lambda model=model: model.eval().forward_all(x))
    return steps, evaluations


def pass_per_width_macs() -> float:
    """The MACs of a pass per width against one full pass, as the masked convolutions execute them (last exit)."""
    config = create_model("dnnet_resnet20_g8").config
    per_width = [cell_resources(config, config.num_exits, w).dense_macs for w in range(1, config.groups + 1)]
    return sum(per_width) / per_width[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/width_conditioning_cost_cpu.json"))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps, evaluations = variants(args.batch)
    step_seconds = interleaved_medians(steps, args.repeats, warmup=1, device=torch.device("cpu"))
    eval_seconds = interleaved_medians(evaluations, args.repeats, warmup=1, device=torch.device("cpu"))
    result = {
        "command": f"python bench/width_conditioning_cost.py --batch {args.batch} --repeats {args.repeats} --out {args.out}",
        "network": "dnnet_resnet20_g8 (cell heads; default recipe)", "batch": args.batch, "threads": 1,
        "training_step_seconds": step_seconds,
        "training_step_conditioned_vs_nested": step_seconds["conditioned"] / step_seconds["nested"],
        "every_cell_evaluation_seconds": eval_seconds,
        "every_cell_evaluation_conditioned_vs_nested": eval_seconds["conditioned"] / eval_seconds["nested"],
        "convolution_macs_conditioned_vs_nested": pass_per_width_macs(),
    }
    write_result(result, args.out)


if __name__ == "__main__":
    main()
