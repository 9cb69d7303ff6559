"""The end of a run's report: what a user does next with this run (the commands, with this run's folder and chosen
cell filled in), and a warning when the run trained for fewer epochs than its network is known to need."""

from __future__ import annotations

import shlex
from pathlib import Path

from dnnet.config import cell_name
from dnnet.reporting.deployment_sections import Section
from dnnet.selection import ChosenCell

# epochs after which each preset's numbers in this project's docs were measured: the paper's schedule for its networks,
# the 30-epoch CPU schedule whose weights ship with dnnet for the ResNet-20 family (docs/results.md)
RECOMMENDED_EPOCHS = {"dnnet_resnet32_g22": 160, "resnet32": 160, "resnet32_anytime": 160,
                      "dnnet_resnet20_g8": 30, "resnet20": 30, "resnet20_anytime": 30}


def next_steps_section(run_dir: Path, preset: str, epochs: int, choice: ChosenCell | None, budget_text: str) -> Section:
    """The commands that select, export, bundle, share and serve this run, and a line when it trained short."""
    run = shlex.quote(str(run_dir))
    cell = "DxW" if choice is None else cell_name(choice.cell.depth, choice.cell.width)
    lines = []
    recommended = RECOMMENDED_EPOCHS.get(preset)
    if recommended is not None and epochs < recommended:
        lines.append(f"This run trained {epochs} epochs; {preset}'s numbers in the docs come from {recommended}: its "
                     f"accuracy here is below what the network reaches (`dnnet train --resume` cannot lengthen a finished "
                     f"run: train a new one with --epochs {recommended}).")
    lines += [f"Choose a cell for your budgets: dnnet select {run} --macs {budget_text} (also --params, --memory; "
              f"--latency-ms after dnnet latency {run}).",
              f"Export that cell: dnnet export {run} --cell {cell} --format onnx --out cell.onnx (or pt2, safetensors; "
              f"--quantize int8).",
              f"Ship the Pareto cells with a selector that needs only onnxruntime and numpy: dnnet bundle {run} --out bundle/",
              f"Share the weights with their preprocessing and a model card: dnnet pretrained {run} --out weights/",
              f"Answer anytime, refining while time remains: dnnet anytime {run} --images 1000 --deadline-ms 0.5"]
    return Section("Next steps", lines)
