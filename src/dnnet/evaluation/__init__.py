"""Accuracy of the whole depth x width grid, and its files."""

from dnnet.evaluation.grid_accuracy import grid_accuracy, grid_correct, per_image_correct
from dnnet.evaluation.grid_files import read_accuracy_grid, read_optional_grid, write_accuracy_grid
from dnnet.evaluation.recalibration import CALIBRATION_IMAGES, recalibrated, recalibrated_grid_accuracy

__all__ = ["CALIBRATION_IMAGES", "grid_accuracy", "grid_correct", "per_image_correct", "read_accuracy_grid", "read_optional_grid",
           "recalibrated", "recalibrated_grid_accuracy", "write_accuracy_grid"]
