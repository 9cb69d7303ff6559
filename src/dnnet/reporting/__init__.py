"""Figures and pages written from results."""

from dnnet.reporting.heatmaps import plot_grid_heatmap

__all__ = ["plot_grid_heatmap"]
