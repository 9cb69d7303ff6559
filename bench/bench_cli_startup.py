"""How long `dnnet --help` takes against importing torch alone (each a fresh process; medians of interleaved runs).

    python bench/bench_cli_startup.py --repeats 15 --out docs/benchmarks_cli_startup.json

Since the package's names are imported on first use, `dnnet --help` imports no torch: the ratio says how much of
torch's import time the top-level help still costs (every subcommand's own modules, torch with them, are imported
only when that command runs or is completed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dnnet
from dnnet.utils.provenance import provenance

COMMANDS = {
    "import torch": [sys.executable, "-c", "import torch"],
    "dnnet --help": [sys.executable, "-m", "dnnet.cli.main", "--help"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_cli_startup.json"))
    args = parser.parse_args()
    seconds = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, command in COMMANDS.items():  # interleaved, so a slower moment of the machine falls on both
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            seconds[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    record = {"command": f"python bench/bench_cli_startup.py --repeats {args.repeats} --out {args.out}",
              "median_seconds": {k: round(v, 4) for k, v in medians.items()},
              "ratio_help_to_import_torch": round(medians["dnnet --help"] / medians["import torch"], 3),
              "seconds": {k: [round(v, 4) for v in values] for k, values in seconds.items()},
              "load_average_after": os.getloadavg(), "provenance": provenance(),
              # the code measured: PYTHONPATH may point at another checkout than the one running this script
              "dnnet_measured": {"path": str(Path(dnnet.__file__).parent), "commit": _commit_of(Path(dnnet.__file__).parent)}}
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"dnnet --help {medians['dnnet --help']:.3f} s, import torch {medians['import torch']:.3f} s: "
          f"ratio {record['ratio_help_to_import_torch']}")


def _commit_of(folder: Path) -> str:
    done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
