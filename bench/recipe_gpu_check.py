"""The recipe's check on a GPU: the paper's network at batch 512 with warm-up, four arms side by side on one device.

    python bench/recipe_gpu_check.py --data .data/cifar10-jpg.tar.gz --epochs 30 --out runs/gpu_check \
        --summary docs/recipe_gpu_check.json                                   # on the GPU machine
    python bench/recipe_gpu_check.py --data digits --epochs 1 --tiny --out /tmp/gpu_check --summary /tmp/g.json  # CPU test

Arms (issue: "full network within 1 point of A in train accuracy and within 2 in test"):
  A  dnnet_resnet32_g22, full-network loss only (the causal network trained alone)
  B  resnet32, the dense plain network
  C  dnnet_resnet32_g22, the paper's recipe (`--recipe paper`)
  D  dnnet_resnet32_g22, the default recipe
Each arm is its own `dnnet train` process (the step is bound by the host's kernel launches, so four processes share
one GPU well); a run that is cut off by `--deadline-s` keeps its checkpoint and the summary reports what finished.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from dnnet.runs import RunRecord, is_finished, read_metrics
from dnnet.utils.provenance import provenance

ARMS = {
    "A_full_only": ["--preset", "dnnet_resnet32_g22", "--weighting", "final"],
    "B_plain": ["--preset", "resnet32"],
    "C_paper": ["--preset", "dnnet_resnet32_g22", "--recipe", "paper"],
    "D_default": ["--preset", "dnnet_resnet32_g22"],
}
TINY = {"dnnet_resnet32_g22": "dnnet_resnet8_g4", "resnet32": "resnet20"}  # the CPU test's stand-ins


def arm_command(arm: str, args: argparse.Namespace) -> list[str]:
    flags = list(ARMS[arm])
    if args.tiny:
        flags[1] = TINY[flags[1]]
    return [sys.executable, "-m", "dnnet.cli.main", "train", *flags, "--data", args.data, "--epochs", str(args.epochs),
            "--batch-size", str(args.batch_size), "--warmup-epochs", str(args.warmup_epochs), "--schedule", "cosine",
            "--out", str(args.out / arm), "--quiet", *(["--compile"] if args.compile else [])]


def summarize(run_dir: Path) -> dict:
    import torch

    rows = read_metrics(run_dir)
    summary = {"train_config": RunRecord.read(run_dir).train_config.to_dict(), "epochs_done": len(rows), "finished": is_finished(run_dir),
               "full_train_augmented": rows[-1]["train_acc_full"] if rows else None,
               "full_val": rows[-1]["val_acc_full"] if rows else None,
               "seconds": sum(r["seconds"] for r in rows), "images_per_s_last_epoch": rows[-1].get("images_per_s") if rows else None}
    if summary["finished"]:
        test = torch.tensor(json.loads((run_dir / "accuracy_test.json").read_text())["accuracy"])
        summary["full_test"] = test[-1, -1].item()
        summary["widths_at_full_depth_test"] = [round(v, 4) for v in test[-1].tolist()]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--warmup-epochs", type=float, default=2.0)
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--deadline-s", type=float, default=540.0, help="stop every arm after this many seconds")
    parser.add_argument("--stop-wait-s", type=float, default=20.0, help="how long a stopped arm may take to save and exit")
    parser.add_argument("--tiny", action="store_true", help="small stand-in networks (the CPU test)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                        help="every arm trains with the compiled step")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_check"))
    parser.add_argument("--summary", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    arms = args.arms.split(",")
    start = time.perf_counter()
    running = {arm: subprocess.Popen(arm_command(arm, args), stdout=open(args.out / f"{arm}.log", "w"),
                                     stderr=subprocess.STDOUT) for arm in arms}
    while any(p.poll() is None for p in running.values()) and time.perf_counter() - start < args.deadline_s:
        time.sleep(2)
    for process in running.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: dnnet train saves its exact position and exits
    for process in running.values():
        try:
            process.wait(timeout=args.stop_wait_s)
        except subprocess.TimeoutExpired:  # still compiling or loading: nothing of it to keep
            process.kill()
            process.wait()
    record = {"command": " ".join(sys.argv), "wall_seconds": round(time.perf_counter() - start, 1),
              "arms": {arm: summarize(args.out / arm) for arm in arms if (args.out / arm / "config.json").is_file()},
              "return_codes": {arm: p.returncode for arm, p in running.items()}, "provenance": provenance()}
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(record, indent=2) + "\n")
    for arm, s in record["arms"].items():
        print(arm, {k: s.get(k) for k in ("epochs_done", "full_train_augmented", "full_val", "full_test", "seconds")})


if __name__ == "__main__":
    main()
