"""`dnnet pretrained`: a trained run, or one of its cells, as a folder that `DNNet.from_pretrained` loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.deploy.pretrained_from_run import pretrained_from_run
from dnnet.pretrained_files import CONFIG_FILE, WEIGHTS_FILE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write (created if missing)")
    parser.add_argument("--depth", type=int, default=None, help="with --width: one cell instead of the whole network")
    parser.add_argument("--width", type=int, default=None, help="with --depth: the cell's channel groups")


def run(args: argparse.Namespace) -> int:
    out = pretrained_from_run(args.run_dir, args.out, args.depth, args.width)
    loader = "DNNet.from_pretrained" if args.depth is None else "SubNet.from_pretrained (or load_subnet)"
    print(f"wrote {out / CONFIG_FILE} and {out / WEIGHTS_FILE}; load it with dnnet.{loader}({str(out)!r})")
    return 0
