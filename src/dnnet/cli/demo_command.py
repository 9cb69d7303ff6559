"""`dnnet demo`: train, evaluate, profile, choose under a budget and report, end to end.

With no arguments it needs no download: a small doubly nested network learns the embedded
digits data set (a few minutes at most on 2 CPU cores). A finished run in --out is reused.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dnnet.accounting import grid_resources
from dnnet.cli.argument_types import macs_budget_argument
from dnnet.cli.eval_command import print_grid_summary
from dnnet.cli.json_output import add_json_flag, print_result, say
from dnnet.cli.profile_command import write_grid_csv
from dnnet.config import DEFAULT_PRESET, cell_name
from dnnet.errors import NoCellFits, UserError
from dnnet.evaluation import read_accuracy_grid
from dnnet.reporting.run_report import write_report
from dnnet.runs import CHECKPOINT_FILE, RunRecord, is_finished
from dnnet.selection import best_within, offered_cells
from dnnet.train import TrainConfig, train
from dnnet.utils.amounts import EXAMPLE_BUDGET, format_count

DEMO = TrainConfig.from_flat(preset=DEFAULT_PRESET, data="digits", epochs=80, batch_size=64)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="run directory (default runs/demo; reused when finished)")
    parser.add_argument("--data", default=DEMO.dataset.data, help="digits (embedded, default) or any data spec that `dnnet train` takes")
    parser.add_argument("--data-dir", default=None, help="where named data sets live (default ./data)")
    parser.add_argument("--preset", default=DEMO.preset, help=f"the network (default {DEMO.preset})")
    demo, train_defaults = DEMO.optimiser, TrainConfig.from_flat().optimiser
    parser.add_argument("--epochs", type=int, default=demo.epochs,
                        help=f"training epochs (default {demo.epochs} at batch {demo.batch_size}: the demo's recipe for the 1,797 "
                             f"digits; `dnnet train` defaults to {train_defaults.epochs} at batch {train_defaults.batch_size}, "
                             "for the CIFARs)")
    parser.add_argument("--macs", type=macs_budget_argument, default=EXAMPLE_BUDGET,
                        help="example MAC budget, e.g. 2M, or a share of the full network's (default 25%%)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    config = TrainConfig.from_flat(**{**DEMO.to_dict(), "data": args.data, "data_dir": args.data_dir, "preset": args.preset,
                            "epochs": args.epochs})
    out = args.out
    _train_or_reuse(config, out, args)
    say(args, "[2/4] accuracy of every cell (validation split)")
    val, test = read_accuracy_grid(out, "val"), read_accuracy_grid(out, "test")
    if not args.json:
        print_grid_summary(val, "val", out)
    say(args, "[3/4] resources of every cell")
    net_config = RunRecord.read(out).net_config
    grid = grid_resources(net_config)
    write_grid_csv(grid, out / "resources.csv")
    budget = args.macs.macs(grid[-1].macs)
    choice = best_within(val, offered_cells(net_config), {"macs": budget})
    if choice is None:
        cheapest = min(grid, key=lambda cell: cell.macs)
        raise NoCellFits(f"no cell fits the budget of {format_count(budget)} MACs; the cheapest, "
                         f"{cell_name(cheapest.depth, cheapest.width)}, needs {format_count(cheapest.macs)} (raise --macs)")
    c = choice.cell
    say(args, f"  best cell under {format_count(budget)} MACs ({args.macs}; the full network needs "
              f"{format_count(grid[-1].macs)}): {cell_name(c.depth, c.width)}, {format_count(c.macs)} MACs, "
              f"{format_count(c.params)} params, "
              f"val {100 * choice.accuracy:.2f}%, test {100 * test[c.depth - 1, c.width - 1]:.2f}% "
              f"(full network: val {100 * val[-1, -1]:.2f}%, test {100 * test[-1, -1]:.2f}%)")
    say(args, "[4/4] report")
    report = write_report(out, args.macs)
    result = {"run": str(out), "macs_budget": budget,
              "best_cell": {"cell": cell_name(c.depth, c.width), "macs": c.macs, "params": c.params,
                            "val_accuracy": choice.accuracy, "test_accuracy": test[c.depth - 1, c.width - 1].item()},
              "full_network": {"val_accuracy": val[-1, -1].item(), "test_accuracy": test[-1, -1].item()},
              "report": str(report)}
    print_result(args, result, lambda: print(f"wrote {report}"))
    return 0


def _train_or_reuse(config: TrainConfig, out: Path, args: argparse.Namespace) -> None:
    """Trains the demo's run into `out`, continues it, or reuses it when finished (said first, with what differs)."""
    checkpoint_path = out / CHECKPOINT_FILE
    if not checkpoint_path.exists():
        say(args, f"[1/4] training {config.preset} on {config.dataset.data} for {config.optimiser.epochs} epochs into {out}")
        train(config, out, device=args.device, show_progress=not args.quiet)
        return
    stored = RunRecord.read(out).train_config
    if stored.preset != config.preset or stored.dataset.data != config.dataset.data:
        raise UserError(f"{out} holds a run of {stored.preset} on {stored.dataset.data}; choose another --out")
    if is_finished(out):
        epochs = config.optimiser.epochs
        note = "" if stored.optimiser.epochs == epochs else (
            f"; --epochs {epochs} does not train it again: give another --out for a run of {epochs} epochs")
        say(args, f"[1/4] reusing the finished run of {stored.optimiser.epochs} epochs in {out}{note}")
        return
    say(args, f"[1/4] continuing the run in {out} to its {stored.optimiser.epochs} epochs")
    train(config, out, resume=True, device=args.device, show_progress=not args.quiet)
