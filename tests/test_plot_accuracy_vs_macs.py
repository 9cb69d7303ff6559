"""Reading one accuracy-MACs series at another's MAC counts (bench/plot_accuracy_vs_macs.py)."""

import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def plot():
    return bench_module("plot_accuracy_vs_macs")


def test_a_series_is_read_on_a_line_in_log_macs_between_its_nearest_points(plot):
    points = [{"macs": 100, "test": 10.0}, {"macs": 10_000, "test": 30.0}, {"macs": 20_000, "test": 31.0}]
    assert plot.read_on_log_macs(points, 1_000) == 20.0  # half-way in log-MACs
    assert plot.read_on_log_macs(points, 100) == 10.0 and plot.read_on_log_macs(points, 20_000) == 31.0
    assert plot.read_on_log_macs(points, 10_000) == 30.0
    assert plot.read_on_log_macs(points, 99) is None and plot.read_on_log_macs(points, 20_001) is None
