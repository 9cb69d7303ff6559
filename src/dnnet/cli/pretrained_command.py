"""`dnnet pretrained`: a trained run, or one of its cells, as a folder that `DNNet.from_pretrained` loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.cli.argument_types import cell_argument
from dnnet.cli.json_output import add_json_flag, print_result
from dnnet.config import CELL_SPELLING
from dnnet.deploy.pretrained_from_run import pretrained_from_run
from dnnet.models.pretrained_files import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="a trained run")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write (created if missing)")
    parser.add_argument("--cell", type=cell_argument, default=None, metavar="DxW",
                        help=f"one cell instead of the whole network, {CELL_SPELLING}")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    depth, width = args.cell or (None, None)
    out = pretrained_from_run(args.run_dir, args.out, depth, width)
    kind = "DNNet" if args.cell is None else "SubNet"
    load_with = f"dnnet.{kind}.from_pretrained({str(out)!r})"  # a line that runs as printed, after `import dnnet`
    written = [str(out / name) for name in (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE)]
    print_result(args, {"wrote": written, "kind": kind, "load_with": load_with}, lambda: print(
        f"wrote {out / CONFIG_FILE}, {out / WEIGHTS_FILE} and the model card {out / CARD_FILE}; load it in Python with: "
        f"{load_with}"))
    return 0
