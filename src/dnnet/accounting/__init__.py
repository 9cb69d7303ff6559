"""Resource accounting: pure functions of a `NetConfig` and a (depth, width) cell."""

from dnnet.accounting.activation_memory import (
    feature_map_sizes,
    largest_feature_map_values,
    peak_activation_bytes,
    peak_activation_values,
)
from dnnet.accounting.cell_resources import CellResources, cell_resources, grid_resources, model_params

__all__ = [
    "CellResources",
    "cell_resources",
    "feature_map_sizes",
    "grid_resources",
    "largest_feature_map_values",
    "model_params",
    "peak_activation_bytes",
    "peak_activation_values",
]
