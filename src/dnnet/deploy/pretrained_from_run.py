"""A finished run's network, or one of its cells, as a pretrained folder with the run's preprocessing and provenance."""

from __future__ import annotations

from pathlib import Path

from dnnet.anytime.path_choice import choose_path, path_record
from dnnet.deploy.run_metadata import preprocessing_of
from dnnet.errors import UserError
from dnnet.runs import TrainedRun
from dnnet.slicing import slice_subnet


def pretrained_from_run(run_dir: str | Path, directory: str | Path, depth: int | None = None, width: int | None = None) -> Path:
    """Writes `directory` (see `DNNet.save_pretrained`): the run's whole network, or its cell (depth, width), with the
    data's mean, std and classes, the run's settings and provenance, and the test accuracy of what is saved."""
    if (depth is None) != (width is None):
        raise UserError("give both depth and width for one cell, or neither for the whole network")
    run = TrainedRun.open(run_dir)
    model, record = run.model, run.record
    provenance = {"data": record.data.name, "train_config": record.train_config.to_dict(), "run_provenance": record.provenance}
    grid, val_grid = run.optional_grid("test"), run.optional_grid("val")
    test = None if grid is None else grid.tolist()
    if depth is None:
        if test is not None:
            provenance["test_accuracy"] = {"full_network": test[-1][-1], "every_cell": test}
        if val_grid is not None:  # what choosing a cell or a path on these weights needs
            provenance["validation_accuracy"] = {"full_network": val_grid[-1, -1].item(), "every_cell": val_grid.tolist()}
            chosen = choose_path(record.net_config, val_grid)
            provenance["anytime_path"] = path_record(chosen, record.net_config, val_grid, grid)
        return model.save_pretrained(directory, preprocessing_of(record), provenance)
    model.config.check_cell(depth, width)
    if test is not None:
        provenance["test_accuracy"] = test[depth - 1][width - 1]
    return slice_subnet(model, depth, width).save_pretrained(directory, preprocessing_of(record), provenance)
