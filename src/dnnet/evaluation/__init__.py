"""Accuracy of the whole depth x width grid, and its files."""

from dnnet.evaluation.grid_accuracy import grid_accuracy, grid_correct
from dnnet.evaluation.grid_files import read_accuracy_grid, write_accuracy_grid

__all__ = ["grid_accuracy", "grid_correct", "read_accuracy_grid", "write_accuracy_grid"]
