"""A damaged run directory (config.json or checkpoint) is one line naming the file, exit 2: never a traceback."""

import json
import shutil

import pytest
import torch

from dnnet.cli.main import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("damaged") / "run")


def damaged_copy(trained, tmp_path, name, content):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    path = run / name
    path.write_bytes(content(path.read_bytes()) if callable(content) else content)
    return run


def edited_config(edit):
    def rewrite(raw):
        record = json.loads(raw)
        edit(record)
        return json.dumps(record).encode()
    return rewrite


DAMAGE = {
    "config not JSON": ("config.json", b"{not json"),
    "config a list": ("config.json", b"[1, 2]"),
    "config without data": ("config.json", edited_config(lambda r: r.pop("data"))),
    "config without net_config": ("config.json", edited_config(lambda r: r.pop("net_config"))),
    "groups edited": ("config.json", edited_config(lambda r: r["net_config"].update(groups=2))),
    "checkpoint empty": ("checkpoint.pt", b""),
    "checkpoint truncated": ("checkpoint.pt", lambda raw: raw[: len(raw) // 2]),
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", [["eval"], ["select", "--macs", "1e9"], ["export", "--cell", "1x1",
                                                                              "--format", "safetensors", "--out", "x.safetensors"]])
def test_a_damaged_run_is_one_line_naming_the_file(trained, tmp_path, capsys, monkeypatch, damage, command):
    name, content = DAMAGE[damage]
    run = damaged_copy(trained, tmp_path, name, content)
    monkeypatch.chdir(tmp_path)
    code = main([command[0], str(run), *command[1:]])
    err = capsys.readouterr().err
    if code == 0:  # select reads the architecture and the grid: neither the weights nor the data's record
        assert command[0] == "select" and damage in ("checkpoint empty", "checkpoint truncated", "config without data")
        return
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # an edited architecture shows where it stops fitting: the weights, or the grid of another shape
    named = ("checkpoint.pt", "accuracy_val.json") if damage == "groups edited" else (name,)
    assert any(n in err for n in named), err


def test_a_checkpoint_of_another_architecture_is_named(trained, tmp_path, capsys):
    run = damaged_copy(trained, tmp_path, "checkpoint.pt", lambda raw: raw)
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state["model"] = {k: v[:1] if v.dim() else v for k, v in state["model"].items()}
    torch.save(state, run / "checkpoint.pt")
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.pt does not fit the network in config.json (stem.weight: shape" in err and "Traceback" not in err


NAN_GRID = b'{"accuracy": [' + b", ".join([b"[0.5, 0.5, 0.5, 0.5]"] * 3) + b', [0.5, 0.5, 0.5, NaN]]}'


@pytest.mark.parametrize("content,message", [(b"{", "is not an accuracy grid"), (b'{"accuracy": [[0.5, "x"]]}', "is not an accuracy grid"),
                                             (NAN_GRID, "outside \\[0, 1\\] or not finite"),
                                             (b'{"accuracy": [[0.5, 0.6]]}', "holds a grid of shape \\(1, 2\\), not 4 x 4")])
def test_a_damaged_accuracy_grid_is_named(trained, tmp_path, capsys, content, message):
    import re

    run = damaged_copy(trained, tmp_path, "accuracy_val.json", content)
    assert main(["select", str(run), "--macs", "1e9"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "accuracy_val.json" in err and "Traceback" not in err, err
