"""Which way of running the channel-causal convolution is fastest on this machine, per layer shape and per network.

Schemes: the masked dense convolution ("dense"), row chunks ("chunks:K", `ChannelCausalConv2d.chunks`) and recursive
halving ("halvings:L", `ChannelCausalConv2d.halvings`), each in both memory formats (NCHW and channels-last).
1. every causal layer shape of a preset alone, forward and backward at the training batch;
2. the preset's whole training step (joint loss, SGD) per scheme and format, against the plain comparator in both
   formats, split into forward (with the loss), backward and optimizer step.
Medians of interleaved repetitions in one run; on a CPU with the threads given, on a GPU synchronised around each.

    python bench/causal_conv_schemes.py --preset dnnet_resnet32_g22 --plain resnet32 --plain-groups 16 --out F.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch

from dnnet import create_model
from dnnet.layers import ChannelCausalConv2d
from dnnet.layers.causal_schemes import set_causal_scheme
from dnnet.runs.train_config import TrainConfig
from dnnet.train.objective import StepPlanner, build_objective
from dnnet.utils.provenance import provenance

FORMATS = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}


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


class Clock:
    """Wall-clock marks, synchronised with the GPU when the work runs there."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()


def medians(variants: dict, repeats: int) -> dict[str, dict[str, float]]:
    """{variant: {part: median seconds}}, the variants interleaved in every repetition after two warm-up rounds."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name in variants}
    for round_ in range(repeats + 2):
        for name, run in variants.items():
            parts = run()
            if round_ >= 2:
                for part, seconds in parts.items():
                    times[name].setdefault(part, []).append(seconds)
    return {name: {part: statistics.median(values) for part, values in parts.items()} for name, parts in times.items()}


def layer_variant(shape: tuple, input_shape: tuple, scheme: str, memory_format, batch: int, device: torch.device):
    in_gc, out_gc, groups, kernel, stride = shape
    layer = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride).to(device, memory_format=memory_format)
    set_causal_scheme(layer, scheme)
    x = torch.randn(batch, input_shape[0], input_shape[1], input_shape[1], device=device)
    x = x.contiguous(memory_format=memory_format).requires_grad_()
    clock = Clock(device)

    def run() -> dict[str, float]:
        start = clock.now()
        out = layer(x)
        middle = clock.now()
        out.backward(torch.ones_like(out))
        end = clock.now()
        layer.weight.grad = x.grad = None
        return {"forward": middle - start, "backward": end - middle, "step": end - start}

    return run


def step_variant(preset: str, groups: int | None, scheme: str, memory_format, batch: int, device: torch.device):
    kwargs = {} if groups is None else {"groups": groups}
    config = TrainConfig.from_flat(preset=preset, **kwargs)
    model = create_model(preset, **kwargs).to(device, memory_format=memory_format)
    set_causal_scheme(model, scheme)
    forward, loss_fn = build_objective(model, config)
    loss_fn = loss_fn.to(device)
    planner = StepPlanner.for_run(config, model.config)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(batch, 3, 32, 32, generator=generator).to(device).contiguous(memory_format=memory_format)
    labels = torch.randint(0, 10, (batch,), generator=generator).to(device)
    clock = Clock(device)

    def run() -> dict[str, float]:
        plan = planner.plan(0, 0.0)
        optimizer.zero_grad(set_to_none=True)
        start = clock.now()
        coefficients = None if plan.coefficients is None else plan.coefficients.to(device)
        loss = loss_fn(forward(images, plan.widths), labels, coefficients, None)
        after_forward = clock.now()
        loss.backward()
        after_backward = clock.now()
        optimizer.step()
        end = clock.now()
        return {"forward": after_forward - start, "backward": after_backward - after_forward,
                "optimizer": end - after_backward, "step": end - start}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="dnnet_resnet20_g8")
    parser.add_argument("--plain", default="resnet20", help="the comparator preset (one dense network)")
    parser.add_argument("--plain-groups", type=int, default=6)
    parser.add_argument("--schemes", default="dense,chunks:2,halvings:1,halvings:2", help="comma-separated schemes")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on a CPU (default 1)")
    parser.add_argument("--layer-repeats", type=int, default=9)
    parser.add_argument("--step-repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    schemes = args.schemes.split(",")
    names = [(scheme, fmt) for fmt in FORMATS for scheme in schemes]

    layers = {}
    for shape, input_shape in causal_layers(create_model(args.preset)).items():
        variants = {f"{scheme} {fmt}": layer_variant(shape, input_shape, scheme, FORMATS[fmt], args.batch_size, device)
                    for scheme, fmt in names}
        times = medians(variants, args.layer_repeats)
        reference = times["dense nchw"]["step"]
        name = "in{}_out{}_g{}_k{}_s{}".format(*shape) + f"_at{input_shape[1]}"
        layers[name] = {"seconds": times, "step_ratio_to_dense_nchw": {k: round(t["step"] / reference, 3) for k, t in times.items()}}
        print(name, " ".join(f"{k}: {r:.2f}x" for k, r in layers[name]["step_ratio_to_dense_nchw"].items()), flush=True)

    variants = {f"{args.preset} {scheme} {fmt}": step_variant(args.preset, None, scheme, FORMATS[fmt], args.batch_size, device)
                for scheme, fmt in names}
    for fmt in FORMATS:
        variants[f"{args.plain} groups={args.plain_groups} {fmt}"] = step_variant(
            args.plain, args.plain_groups, "dense", FORMATS[fmt], args.batch_size, device)
    steps = medians(variants, args.step_repeats)
    plain = {fmt: steps[f"{args.plain} groups={args.plain_groups} {fmt}"]["step"] for fmt in FORMATS}
    best_plain = min(plain.values())
    for name, parts in steps.items():
        print(f"{name}: step {parts['step']:.3f} s, {parts['step'] / plain['nchw']:.2f}x the plain NCHW step, "
              f"{parts['step'] / best_plain:.2f}x its fastest (forward {parts['forward']:.3f}, backward "
              f"{parts['backward']:.3f}, optimizer {parts['optimizer']:.3f})", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"preset": args.preset, "plain": args.plain, "plain_groups": args.plain_groups,
                                    "batch_size": args.batch_size, "device": args.device, "threads": args.threads,
                                    "schemes": schemes, "layers": layers, "steps": steps,
                                    "command": " ".join(["python"] + sys.argv), "provenance": provenance()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
