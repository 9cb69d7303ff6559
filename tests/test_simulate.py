"""`dnnet simulate`: a trace of changing budgets served by DNNet and a depth-only network."""

import json
from pathlib import Path

import pytest
import torch

from dnnet import create_model, grid_resources
from dnnet.cli.main import main
from dnnet.deploy.example_traces import trace_path
from dnnet.deploy.request_images import request_images
from dnnet.deploy.simulate import Request, read_trace, serve, summarize

GRID = grid_resources(create_model("dnnet_resnet8_g4").config)


def test_trace_in_fractions_of_the_full_network(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time_s,macs_fraction,memory_fraction\n0,0.5,1\n1.5,0.25,0.5\n")
    full = GRID[-1]
    requests = read_trace(path, full)
    assert requests == [Request(0.0, 0.5 * full.macs, full.peak_act_bytes), Request(1.5, 0.25 * full.macs, 0.5 * full.peak_act_bytes)]
    path.write_text("time_s,macs,memory_bytes\n0,1000,2048\n")
    assert read_trace(path, full) == [Request(0.0, 1000.0, 2048.0)]


@pytest.mark.parametrize("text, message", [
    ("time_s,macs\n0,1\n", "needs columns"), ("time_s,macs,memory_bytes\n", "no requests"), ("", "no requests"),
    ("time_s,macs,memory_bytes\n0,lots,1\n", "lots"),
    ("time_s,macs,memory_bytes\n0,1,1\n2,1,1\n1,1,1\n", "line 4: time_s goes back \\(1.0 after 2.0\\)"),
    ("time_s,macs,memory_bytes\n0,1,1\n1,1,1,9,9\n", "line 3: 5 values for 3 columns"),
])
def test_bad_traces_are_named(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_trace(path, GRID[-1])


def test_a_trace_beyond_the_bound_is_refused_at_the_first_row_past_it(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("time_s,macs,memory_bytes\n" + "".join(f"{t},1,1\n" for t in range(4)))
    assert len(read_trace(path, GRID[-1], max_requests=4)) == 4
    with pytest.raises(ValueError, match="holds more than 3 requests; split it into shorter traces"):
        read_trace(path, GRID[-1], max_requests=3)


@pytest.mark.parametrize("name", ["contention", "memory_squeeze", "random_walk"])
def test_example_traces_read_by_name(name):
    requests = read_trace(trace_path(name), GRID[-1])
    assert len(requests) == 300 and all(r.macs > 0 and r.memory_bytes > 0 for r in requests)


def test_serve_picks_the_best_fitting_cell_and_refuses_what_nothing_fits():
    val = torch.arange(16, dtype=torch.float64).reshape(4, 4) / 16  # deeper and wider is better
    correct = torch.zeros(2, 4, 4, dtype=torch.bool)
    correct[0, 3, 3] = True  # image 0: only the full network is right
    correct[1, 0, 0] = True  # image 1: only 1x1 is right
    full, smallest = GRID[-1], GRID[0]
    requests = [Request(0, full.macs, full.peak_act_bytes), Request(1, smallest.macs, smallest.peak_act_bytes),
                Request(2, smallest.macs - 1, 1e9)]
    served = serve(requests, GRID, val, correct, images=torch.tensor([0, 1, 0]))
    assert [(s.cell.depth, s.cell.width) if s.cell else None for s in served] == [(4, 4), (1, 1), None]
    assert [s.correct for s in served] == [True, True, False]
    swapped = serve(requests, GRID, val, correct, images=torch.tensor([1, 0, 0]))  # the same cells, on the other images
    assert [s.correct for s in swapped] == [False, False, False]
    summary = summarize(requests, served)
    assert summary == {"requests": 3, "answered": 2, "accuracy_delivered": round(2 / 3, 4), "accuracy_of_answered": 1.0,
                       "macs_share_used": 1.0, "memory_share_used": 1.0}


def test_simulate_command_compares_dnnet_and_depth_only(tmp_path, capsys):
    dnnet, anytime = tmp_path / "dnnet", tmp_path / "anytime"
    assert main(["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--out", str(dnnet), "--quiet"]) == 0
    assert main(["train", "--preset", "resnet20_anytime", "--groups", "3", "--epochs", "1", "--out", str(anytime), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["simulate", str(dnnet), "--trace", "contention", "--baseline", str(anytime)]) == 0
    printed = capsys.readouterr().out
    assert "DNNet: accuracy delivered" in printed and "depth-only: accuracy delivered" in printed
    record = json.loads((dnnet / "simulate" / "contention.json").read_text())
    assert set(record["summary"]) == {"DNNet", "depth-only"} and len(record["chosen"]["DNNet"]) == 300
    assert record["summary"]["DNNet"]["answered"] == 300  # every budget of this trace leaves 1x1
    assert all(c is None or c.endswith("x3") for c in record["chosen"]["depth-only"])
    assert (dnnet / "simulate" / "contention.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["simulate", str(dnnet), "--trace", str(tmp_path / "none.csv")]) == 2


def test_requests_take_every_image_in_a_seeded_order_before_any_twice():
    order = request_images(250, 100, seed=3)
    assert sorted(order[:100].tolist()) == list(range(100)) and torch.equal(order[100:200], order[:100])
    assert torch.equal(order[200:], order[:50]) and torch.equal(order, request_images(250, 100, seed=3))
    assert not torch.equal(order[:100], request_images(100, 100, seed=4))
    labels = torch.arange(100) // 50  # a test set stored class by class
    assert set(labels[order[:10]].tolist()) == {0, 1}
    with pytest.raises(ValueError, match="no images"):
        request_images(3, 0)


def test_a_file_of_an_example_name_is_taken_over_the_shipped_trace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "contention").write_text("time_s,macs,memory_bytes\n0,1,1\n")
    assert trace_path("contention") == Path("contention")
    assert trace_path("other.csv") == Path("other.csv")
