"""--json: every command that answers a question prints one JSON object on stdout, and its errors as JSON too."""

import json

import pytest

from dnnet.cli.main import main


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shared_run):
    return shared_run("tiny", tmp_path_factory.mktemp("json") / "run")


def answer(capsys, argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n")  # one object on one line, as a script reading lines expects
    return code, json.loads(out)  # the whole of stdout is one JSON object


@pytest.mark.parametrize("argv,keys", [
    (["eval", "{run}"], {"source", "split", "full_network", "mean_over_cells", "accuracy", "wrote"}),
    (["select", "{run}", "--macs", "50%"], {"depth", "width", "val_accuracy", "macs"}),
    (["latency", "{run}", "--repeats", "1"], {"runtime", "batch", "latency_ms", "fastest_ms", "full_network_ms", "wrote"}),
    (["export", "{run}", "--cell", "2x3", "--format", "safetensors", "--out", "{tmp}/cell.safetensors"],
     {"cell", "format", "path", "metadata"}),
    (["simulate", "{run}", "--trace", "contention"], {"trace", "summary", "chosen", "wrote"}),
    (["anytime", "{run}", "--images", "20"], {"path", "threshold", "validation", "served", "wrote"}),
    (["profile", "--preset", "dnnet_resnet8_g4", "--out", "{tmp}/profile", "--cells", "2x3"], {"preset", "budget", "cells"}),
    (["pretrained", "{run}", "--out", "{tmp}/weights"], {"wrote", "kind", "load_with"}),
    (["bundle", "{run}", "--out", "{tmp}/bundle"], {"out", "cells", "select_with"}),
    (["report", "{run}"], {"wrote"}),
    (["train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--out", "{tmp}/new", "--quiet"],
     {"run", "full_network", "smallest_cell_val_accuracy", "wrote"}),
    (["demo", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--out", "{tmp}/demo", "--quiet"],
     {"run", "macs_budget", "best_cell", "full_network", "report"}),
    (["experiment", "fig3", "--out", "{tmp}/experiments", "--quiet"], {"root", "protocol", "wrote", "report"}),  # no training
])
def test_each_command_answers_in_one_json_object(trained_run, tmp_path, capsys, argv, keys):
    argv = [a.format(run=trained_run, tmp=tmp_path) for a in argv]
    code, result = answer(capsys, argv)
    assert code == 0 and keys <= set(result)


def test_the_json_grid_is_the_grid_eval_writes(trained_run, capsys):
    _, result = answer(capsys, ["eval", str(trained_run)])
    written = json.loads((trained_run / "accuracy_val.json").read_text())["accuracy"]
    assert len(result["accuracy"]) == 4 and all(len(row) == 4 for row in result["accuracy"])
    assert result["accuracy"] == [[round(v, 6) for v in row] for row in written]


@pytest.mark.parametrize("argv,exit_code,message", [
    (["eval", "{tmp}/nowhere"], 2, "nowhere"),
    (["select", "{run}", "--macs", "1"], 4, "no cell fits"),
    (["profile", "--preset", "nope"], 2, "unknown preset 'nope'"),
    (["profile", "--cells", "2-3"], 2, "a cell is written DEPTHxWIDTH"),  # a usage error, from argparse
])
def test_errors_come_out_as_json_with_their_exit_code(trained_run, tmp_path, capsys, argv, exit_code, message):
    argv = [a.format(run=trained_run, tmp=tmp_path) for a in argv]
    try:
        code, result = answer(capsys, argv)
    except SystemExit as stopped:  # argparse exits on usage errors; what it printed is still one JSON object
        code, result = stopped.code, json.loads(capsys.readouterr().out)
    assert code == exit_code and result["exit_code"] == exit_code and message in result["error"]


def test_usage_errors_are_json_only_for_the_parser_asked_to(capsys):
    import pytest

    from dnnet.cli.main import build_parser

    with_json, plain = build_parser("select", json_errors=True), build_parser("select")
    for parser, as_json in [(with_json, True), (plain, False), (with_json, True)]:  # neither changes the other
        with pytest.raises(SystemExit):
            parser.parse_args(["select", "RUN", "--macs", "lots"])
        out, err = capsys.readouterr()
        assert (json.loads(out)["exit_code"] == 2 and err == "") if as_json else (out == "" and "usage:" in err)
