"""Accuracy of the whole depth x width grid, and its files."""

from dnnet.evaluation.grid_accuracy import grid_accuracy, grid_correct, per_image_correct
from dnnet.evaluation.grid_files import grid_name, read_accuracy_grid, read_optional_grid, write_accuracy_grid
from dnnet.evaluation.recalibration import CALIBRATION_IMAGES, recalibrated, recalibrated_grid_accuracy
from dnnet.evaluation.tta import NO_TTA, TTA_MODES

__all__ = ["CALIBRATION_IMAGES", "NO_TTA", "TTA_MODES", "grid_accuracy", "grid_correct", "grid_name", "per_image_correct",
           "read_accuracy_grid", "read_optional_grid", "recalibrated", "recalibrated_grid_accuracy", "write_accuracy_grid"]
