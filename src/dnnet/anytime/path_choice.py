"""Which path a walk takes, as people name it: a rule (`auto`, `area`, `greedy`, `front`) applied to the validation
grid, or an explicit list of cells (`1x1,2x1,...,10x8`); what was chosen, by which rule, and its `area`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dnnet.anytime.path import check_path
from dnnet.anytime.path_area import LogMacAxis, default_axis, front_area, path_area
from dnnet.anytime.path_search import area_path, front_path, greedy_path
from dnnet.config import Cell, NetConfig, cell_name, parse_cell
from dnnet.errors import UserError

# rule -> the path it chooses from the config and a validation grid. "auto" is "area" for one walk; budgeted
# classification, where each image stops at its own step, compares the candidates itself (anytime.budgeted_path).
PATH_RULES = {
    "area": lambda config, accuracy: area_path(config, accuracy),
    "greedy": greedy_path,
    "front": lambda config, accuracy: front_path(config, accuracy),
}
PATH_SPELLING = f"auto, {', '.join(PATH_RULES)}, or cells joined by commas such as 1x1,1x2,2x2"

PathRequest = str | Sequence[tuple[int, int]]  # a rule's name, or the cells of an explicit path


@dataclass(frozen=True)
class ChosenPath:
    """A path and how it was chosen; `area_val` is its `path_area` on the validation grid (a fraction)."""

    cells: list[Cell]
    rule: str  # "area", "greedy", "front", "explicit", or "exits" (the one path of a network without nested widths)
    area_val: float
    axis: LogMacAxis

    def to_dict(self) -> dict:
        return {"cells": [cell_name(*c) for c in self.cells], "rule": self.rule, "objective": "area",
                "area_val": self.area_val, "axis_macs": [self.axis.low, self.axis.high]}


def parse_path(text: str) -> PathRequest:
    """'auto' / a rule's name as it is; '1x1,1x2,2x2' as a list of cells (checked against a network later)."""
    text = text.strip()
    if text == "auto" or text in PATH_RULES:
        return text
    parts = [part for part in text.split(",") if part.strip()]
    try:
        cells = [Cell(*parse_cell(part)) for part in parts]
    except UserError:
        cells = []
    if not cells:
        raise UserError(f"a path is {PATH_SPELLING}; got {text!r}")
    return cells

def choose_path(config: NetConfig, accuracy: torch.Tensor, request: PathRequest = "auto") -> ChosenPath:
    """The path `request` names, for the network of `config` with validation grid `accuracy`: "auto" and "area" the
    exact best by `area`, "greedy" the walk by best gain per MAC, "front" the walk through the static Pareto front, a
    list of cells that path (checked by `check_path`)."""
    axis = default_axis(config)
    if isinstance(request, str):
        rule = "area" if request == "auto" else request
        if rule not in PATH_RULES:
            raise UserError(f"a path is {PATH_SPELLING}; got {request!r}")
        cells = PATH_RULES[rule](config, accuracy)
        rule = rule if config.nested_widths else "exits"  # every rule gives such a network its one path
    else:
        rule, cells = "explicit", check_path(config, request)
    return ChosenPath(cells, rule, path_area(config, accuracy, cells, axis), axis)


def path_record(chosen: ChosenPath, config: NetConfig, val: torch.Tensor, test: torch.Tensor | None = None) -> dict:
    """What a command records of its path: the cells, the rule, the area on validation (and on test when given),
    and the static Pareto front's area on the same axis (cells chosen on validation): the bound for any walk."""
    record = chosen.to_dict() | {"front_area_val": front_area(config, val, val, chosen.axis)}
    if test is not None:
        record |= {"area_test": path_area(config, test, chosen.cells, chosen.axis),
                   "front_area_test": front_area(config, val, test, chosen.axis)}
    return record


def describe_path(record: dict) -> str:
    """One line for people: the rule, the corners of the path, and its area against the front's."""
    names = record["cells"]
    corners = [name for index, name in enumerate(names) if index in (0, len(names) - 1) or not _straight(names, index)]
    split = "test" if "area_test" in record else "val"
    return (f"{record['rule']}: {' -> '.join(corners)}, {len(record['cells'])} cells; mean {split} accuracy over the log-MAC axis "
            f"{100 * record['area_' + split]:.2f}% (best cell per budget: {100 * record['front_area_' + split]:.2f}%)")


def _straight(names: list[str], index: int) -> bool:
    """Whether the path goes on in the same direction through cell `index` (no corner there)."""
    before, here, after = (parse_cell(names[i]) for i in (index - 1, index, index + 1))
    return (here[0] - before[0], here[1] - before[1]) == (after[0] - here[0], after[1] - here[1])
