"""How fast the channel-causal convolution runs as row chunks (`ChannelCausalConv2d.chunks`) on this machine.

1. every causal layer shape of a preset alone, forward and backward at the training batch, for each chunk count;
2. the preset's whole training step (joint loss, SGD) with every causal layer at each chunk count, against the plain
   comparator, split into forward (with the loss), backward and optimizer step.
Ratios of medians of interleaved repetitions in one run, one thread.

    python bench/causal_conv_chunks.py --preset dnnet_resnet20_g8 --plain resnet20 --plain-groups 6 --out F.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial
from pathlib import Path

import torch

from dnnet import create_model
from dnnet.layers import ChannelCausalConv2d
from dnnet.runs.train_config import TrainConfig
from dnnet.train.objective import StepPlanner, build_objective
from dnnet.utils.provenance import provenance


def causal_layers(model: torch.nn.Module, image_size: int = 32) -> dict[tuple, tuple]:
    """Each distinct causal layer shape, (in, out per group, groups, kernel, stride) -> its input's (channels, size)."""
    shapes: dict[tuple, tuple] = {}
    hooks = []
    for layer in model.modules():
        if isinstance(layer, ChannelCausalConv2d) and layer.causal and not layer.shared_input:
            key = (layer.in_group_channels, layer.out_group_channels, layer.groups, layer.kernel_size, layer.stride)
            hooks.append(layer.register_forward_hook(partial(remember_input, shapes, key)))
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size))
    for hook in hooks:
        hook.remove()
    return shapes


def remember_input(shapes: dict, key: tuple, layer, args, output) -> None:
    """A forward hook: the first input shape seen for `key` (returns None: the output stays)."""
    shapes.setdefault(key, tuple(args[0].shape[1:3]))


def medians(variants: dict, repeats: int) -> dict[str, dict[str, float]]:
    """{variant: {part: median seconds}}, the variants interleaved in every repetition after one warm-up round."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name in variants}
    for round_ in range(repeats + 1):
        for name, run in variants.items():
            parts = run()
            if round_:
                for part, seconds in parts.items():
                    times[name].setdefault(part, []).append(seconds)
    return {name: {part: statistics.median(values) for part, values in parts.items()} for name, parts in times.items()}


def layer_variant(shape: tuple, input_shape: tuple, chunks: int, batch: int):
    in_gc, out_gc, groups, kernel, stride = shape
    layer = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride)
    layer.chunks = chunks
    x = torch.randn(batch, input_shape[0], input_shape[1], input_shape[1], requires_grad=True)

    def run() -> dict[str, float]:
        start = time.perf_counter()
        out = layer(x)
        middle = time.perf_counter()
        out.backward(torch.ones_like(out))
        end = time.perf_counter()
        layer.weight.grad = x.grad = None
        return {"forward": middle - start, "backward": end - middle, "step": end - start}

    return run


def step_variant(preset: str, groups: int | None, chunks: int, batch: int):
    kwargs = {} if groups is None else {"groups": groups}
    config = TrainConfig.from_flat(preset=preset, **kwargs)
    model = create_model(preset, **kwargs)
    for layer in model.modules():
        if isinstance(layer, ChannelCausalConv2d):
            layer.chunks = chunks
    forward, loss_fn = build_objective(model, config)
    planner = StepPlanner.for_run(config, model.config)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    images, labels = torch.randn(batch, 3, 32, 32, generator=generator), torch.randint(0, 10, (batch,), generator=generator)

    def run() -> dict[str, float]:
        plan = planner.plan(0, 0.0)
        optimizer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        loss = loss_fn(forward(images, plan.widths), labels, plan.coefficients, None)
        after_forward = time.perf_counter()
        loss.backward()
        after_backward = time.perf_counter()
        optimizer.step()
        end = time.perf_counter()
        return {"forward": after_forward - start, "backward": after_backward - after_forward,
                "optimizer": end - after_backward, "step": end - start}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="dnnet_resnet20_g8")
    parser.add_argument("--plain", default="resnet20", help="the comparator preset (one dense network)")
    parser.add_argument("--plain-groups", type=int, default=6)
    parser.add_argument("--chunks", default="1,2,3,4", help="comma-separated chunk counts (1: the masked dense path)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--layer-repeats", type=int, default=9)
    parser.add_argument("--step-repeats", type=int, default=5)
    parser.add_argument("--skip-steps", action="store_true", help="time the layers only")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    chunk_counts = [int(c) for c in args.chunks.split(",")]

    layers = {}
    for shape, input_shape in causal_layers(create_model(args.preset)).items():
        times = medians({str(k): layer_variant(shape, input_shape, k, args.batch_size) for k in chunk_counts}, args.layer_repeats)
        dense = times[str(chunk_counts[0])]["step"]
        name = "in{}_out{}_g{}_k{}_s{}".format(*shape) + f"_at{input_shape[1]}"
        layers[name] = {"seconds": times, "step_ratio_to_first": {k: round(t["step"] / dense, 3) for k, t in times.items()}}
        print(name, " ".join(f"k={k}: {r:.2f}x" for k, r in layers[name]["step_ratio_to_first"].items()), flush=True)

    steps = {}
    if not args.skip_steps:
        variants = {f"{args.preset} chunks={k}": step_variant(args.preset, None, k, args.batch_size) for k in chunk_counts}
        variants[f"{args.plain} groups={args.plain_groups}"] = step_variant(args.plain, args.plain_groups, 1, args.batch_size)
        steps = medians(variants, args.step_repeats)
        plain = steps[f"{args.plain} groups={args.plain_groups}"]["step"]
        for name, parts in steps.items():
            print(f"{name}: step {parts['step']:.3f} s, {parts['step'] / plain:.2f}x the plain network "
                  f"(forward {parts['forward']:.3f}, backward {parts['backward']:.3f}, optimizer {parts['optimizer']:.3f})", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"preset": args.preset, "plain": args.plain, "plain_groups": args.plain_groups,
                                    "batch_size": args.batch_size, "chunks": chunk_counts, "layers": layers,
                                    "steps": steps, "provenance": provenance()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
