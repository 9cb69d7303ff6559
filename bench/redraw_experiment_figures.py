"""Redraws the committed experiment figures (fig4, fig5, lambda) from their JSON files (no runs, no data needed), so
that figures in docs/ follow the current drawing code: a caption with data set, epochs, hardware and seeds, and the
seeds' range where a file has more than one seed. fig3 (resources, nothing trained) is drawn again from its protocol.

    python bench/redraw_experiment_figures.py docs/experiments_paper_h200_e6 --caption "cifar10-jpg, 6 epochs, NVIDIA H200"
    python bench/redraw_experiment_figures.py docs/experiments_cpu_paper_recipe --caption "cifar10-jpg, 7 epochs, CPU, 2 cores" \
        --more-seeds docs/experiments_cpu_seed1_paper_recipe

A file written since the caption existed carries its own (`caption`); `--caption` is for older files, and says what
their runs were (their config.json files were not kept beside them): the seeds are added from the file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from dnnet.experiments import RunStore, fig3, get_protocol
from dnnet.experiments.fig4 import plot_fig4
from dnnet.experiments.fig5 import plot_fig5
from dnnet.experiments.lambda_weighting import plot_lambda


def caption_of(record: dict, given: str | None, seeds: list[int]) -> str:
    """The file's own caption or the given one, with the seeds the figure draws (a file's own names its seeds last)."""
    own = record.get("caption", "").rsplit("; seed", 1)[0]
    if not (own or given):
        raise SystemExit(f"{record['experiment']}.json has no caption of its own: give --caption")
    return f"{own or given}; seed{'s' if len(seeds) > 1 else ''} {', '.join(str(s) for s in seeds)}"


def read_fig4(folder: Path) -> dict:
    return json.loads((folder / "fig4.json").read_text())


def with_seed(record: dict) -> list[dict]:
    """fig4's rows, each with its seed (files from before rows had one name it once, for all of them)."""
    return [{"seed": record["seed"], **row} for row in record["rows"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a folder with fig4.json, fig5.json and/or lambda.json")
    parser.add_argument("--caption", default=None, help="data set, epochs and hardware of files without a caption")
    parser.add_argument("--more-seeds", type=Path, nargs="*", default=[],
                        help="folders whose fig4.json is the same suite with another seed: fig4 draws their spread")
    args = parser.parse_args()
    for name in ("fig3", "fig4", "fig5", "lambda"):
        path = args.folder / f"{name}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        protocol = get_protocol(record["protocol"])
        figure = args.folder / f"{name}.png"
        if name == "fig3":
            with tempfile.TemporaryDirectory() as scratch:  # counted from the architectures: nothing to read
                fig3.run(RunStore(Path(scratch), protocol))
                shutil.copy(Path(scratch) / "experiments" / "fig3.png", figure)
        elif name == "fig4":
            rows = [row for source in [record, *map(read_fig4, args.more_seeds)] for row in with_seed(source)]
            seeds = sorted({row["seed"] for row in rows})
            plot_fig4(rows, figure, protocol.name, caption_of(record, args.caption, seeds))
        elif name == "fig5":
            protocol = protocol.with_overrides(seeds=tuple(record["seeds"]))
            plot_fig5(record["rows"], record["best"], record["sweep"], record["macs_budget"], figure, protocol,
                      caption_of(record, args.caption, record["seeds"]))
        else:
            plot_lambda(record["rows"], figure, protocol.name, caption_of(record, args.caption, [record["seed"]]))
        print(f"redrew {figure}")


if __name__ == "__main__":
    main()
