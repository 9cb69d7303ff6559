"""Deployment: choosing a cell under budgets and exporting it as a standalone file."""

from dnnet.deploy.budgets import RESOURCES, Budget, BudgetError, choose, pareto_cells, parse_size
from dnnet.deploy.export import FORMATS, export_subnet

__all__ = ["FORMATS", "RESOURCES", "Budget", "BudgetError", "choose", "export_subnet", "parse_size", "pareto_cells"]
