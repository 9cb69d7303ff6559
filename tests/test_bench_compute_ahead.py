"""The compute-ahead benchmark's summary of how soon a walk gives how good an answer."""

import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def bench():
    return bench_module("bench_compute_ahead")


def test_mean_accuracy_at_a_uniform_deadline_weights_each_answer_by_how_long_it_is_the_latest(bench):
    # nothing for 1 ms, 10% for 1 ms, then 20% to the horizon at 4 ms
    assert bench.mean_accuracy_until([1.0, 2.0], [10.0, 20.0], 4.0) == (0 + 10 + 2 * 20) / 4
    assert bench.mean_accuracy_until([1.0, 2.0], [10.0, 20.0], 2.0) == 10 / 2  # the second answer comes at the horizon
    assert bench.mean_accuracy_until([1.0, 2.0], [10.0, 20.0], 0.5) == 0.0


def test_the_quality_is_measured_against_the_slowest_walk(bench):
    trained = {"test_accuracy": [10.0, 20.0], "answer_ms": {1: {"none": [1.0, 4.0], "all": [2.0, 2.5]}}}
    quality = bench.deadline_quality(trained)[1]
    assert quality["T_ms"] == 4.0
    assert quality["T/1"] == {"none": 10 * 3 / 4 + 20 * 0 / 4, "all": (10 * 0.5 + 20 * 1.5) / 4}
    assert quality["T/4"] == {"none": 0.0, "all": 0.0}
