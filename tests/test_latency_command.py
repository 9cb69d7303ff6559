"""`dnnet latency`: the measured table of every cell, stored in the run and read by `select --latency-ms`."""

import json

import pytest
import torch

from dnnet.cli.main import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("latency") / "run")


@pytest.mark.parametrize("runtime", ["eager", "onnxruntime", "onnxruntime-int8"])
def test_latency_table_is_stored_and_used_by_select(run_dir, capsys, runtime):
    assert main(["latency", str(run_dir), "--repeats", "2", "--runtime", runtime]) == 0
    record = json.loads((run_dir / f"latency_{runtime}.json").read_text())
    assert record["runtime"] == runtime and record["batch"] == 1 and record["threads"] == 1
    assert "machine" in record["provenance"]
    table = torch.tensor(record["milliseconds"])
    assert table.shape == (4, 4) and bool((table > 0).all())
    capsys.readouterr()
    limit = table.median().item()
    assert main(["select", str(run_dir), "--latency-ms", str(limit), "--runtime", runtime, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["latency_ms"] <= limit + 1e-4
    assert main(["select", str(run_dir), "--latency-ms", str(table.min().item() / 2), "--runtime", runtime]) == 4
    assert "latency_ms" in capsys.readouterr().err


def test_a_latency_batch_beyond_the_machines_memory_is_one_line(run_dir, capsys):
    """--batch 100000000 was an allocator traceback asking for 300 GB."""
    capsys.readouterr()
    assert main(["latency", str(run_dir), "--batch", "100000000", "--repeats", "1"]) == 2
    err = capsys.readouterr().err
    assert "--batch 100000000 needs about" in err and "use a smaller --batch" in err and err.count("\n") == 1


@pytest.mark.parametrize("threads", ["0", "99999"])  # 99999 made the thread pool crash the process (exit 139)
def test_latency_threads_are_bounded_by_the_cores(run_dir, capsys, threads):
    import os

    capsys.readouterr()
    assert main(["latency", str(run_dir), "--threads", threads]) == 2
    assert capsys.readouterr().err == (f"dnnet latency: error: --threads must be between 1 and this machine's {os.cpu_count()} "
                                       f"cores, got {threads}\n")
