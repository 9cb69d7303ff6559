"""How fast the channel-causal convolution runs as row chunks (`ChannelCausalConv2d.chunks`) on this machine.

1. every causal layer shape of a preset alone, forward and backward at the training batch, for each chunk count;
2. the preset's whole training step (joint loss, SGD) with every causal layer at each chunk count, against the plain
   comparator, split into forward (with the loss), backward and optimizer step.
Ratios of medians of interleaved repetitions in one run, one thread. The first study of the schemes, kept for its
recorded results; bench/causal_conv_schemes.py (whose measurements it reuses) compares every scheme in both formats.

    python bench/causal_conv_chunks.py --preset dnnet_resnet20_g8 --plain resnet20 --plain-groups 6 --out F.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from causal_conv_schemes import causal_layers, layer_variant, medians, step_variant  # noqa: E402

from dnnet import create_model  # noqa: E402
from dnnet.utils.provenance import provenance  # noqa: E402


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
    cpu, nchw = torch.device("cpu"), torch.contiguous_format
    for shape, input_shape in causal_layers(create_model(args.preset)).items():
        times = medians({str(k): layer_variant(shape, input_shape, f"chunks:{k}", nchw, args.batch_size, cpu)
                         for k in chunk_counts}, args.layer_repeats)
        dense = times[str(chunk_counts[0])]["step"]
        name = "in{}_out{}_g{}_k{}_s{}".format(*shape) + f"_at{input_shape[1]}"
        layers[name] = {"seconds": times, "step_ratio_to_first": {k: round(t["step"] / dense, 3) for k, t in times.items()}}
        print(name, " ".join(f"k={k}: {r:.2f}x" for k, r in layers[name]["step_ratio_to_first"].items()), flush=True)

    steps = {}
    if not args.skip_steps:
        variants = {f"{args.preset} chunks={k}": step_variant(args.preset, None, f"chunks:{k}", nchw, args.batch_size, cpu)
                    for k in chunk_counts}
        variants[f"{args.plain} groups={args.plain_groups}"] = step_variant(args.plain, args.plain_groups, "dense", nchw,
                                                                          args.batch_size, cpu)
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
