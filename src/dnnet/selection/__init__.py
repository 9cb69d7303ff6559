"""Choosing a cell: the cells a network offers, those within limits, the best on validation, the Pareto front."""

from dnnet.selection.best_cell import ChosenCell, accuracy_of, best_within, choose
from dnnet.selection.budget import RESOURCES, Budget, BudgetError, explain_infeasible
from dnnet.selection.offered_cells import cells_within, deepest_exit_at_width, offered_cells, widest_per_depth
from dnnet.selection.pareto_front import pareto_front

__all__ = ["RESOURCES", "Budget", "BudgetError", "ChosenCell", "accuracy_of", "best_within", "cells_within", "choose",
           "deepest_exit_at_width", "explain_infeasible", "offered_cells", "pareto_front", "widest_per_depth"]
