"""Figures and pages written from results."""

from dnnet.reporting.heatmaps import draw_grid_heatmap, plot_accuracy_grid, plot_grid_heatmap

__all__ = ["draw_grid_heatmap", "plot_accuracy_grid", "plot_grid_heatmap"]
