"""The paper run's plan on a GPU lease (bench/gpu_paper_plan.py): the fastest kind of step, the epochs that fit."""

import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def plan():
    return bench_module("gpu_paper_plan").plan


def result(images_per_s, first_epoch_seconds, failed=None):
    return {"images_per_s": images_per_s, "first_epoch_seconds": first_epoch_seconds, "compile_failed": failed}


def test_the_fastest_kind_that_compiled_trains_the_epochs_that_fit(plan):
    results = {"dnnet_joint/eager": result(15_000, 5), "dnnet_joint/compiled": result(18_000, 80),
               "dnnet_joint/cuda-graphs": result(45_000, 100)}
    # 400 s left: 100 s compiling and 60 s evaluating leave 240 s at 45,000 images/s: 240 epochs, capped at 160
    assert plan(results, 400) == (160, ["--compile", "--compile-mode", "cuda-graphs"])
    assert plan(results, 400, max_epochs=300) == (240, ["--compile", "--compile-mode", "cuda-graphs"])
    results["dnnet_joint/cuda-graphs"] = result(45_000, 100, failed="RuntimeError: no graphs")
    assert plan(results, 410) == (108, ["--compile"])  # (410 - 80 - 60) s * 18,000 / 45,000 images
    results["dnnet_joint/compiled"] = result(18_000, 80, failed="BackendCompilerFailed: no compiler")
    assert plan(results, 400) == (113, [])  # eager: (400 - 60) s * 15,000 / 45,000 images, nothing to compile
    assert plan(results, 50) == (1, [])  # at least one epoch


def test_no_measured_joint_step_stops_the_plan(plan):
    with pytest.raises(SystemExit, match="no joint step"):
        plan({"plain/eager": result(25_000, 4)}, 400)
