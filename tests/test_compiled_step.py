"""The compiled training step (`compile=True`): the same run as the eager step, resumable, and a failing compiler
leaves the run unharmed. Traced with torch.compile's "aot_eager" backend (the graphs inductor would fuse, run
unfused: seconds instead of a minute of code generation per network)."""

import json

import pytest
import torch
from test_training import TINY, interrupt_and_resume

import dnnet.train.training_step as training_step
from dnnet.errors import UserError
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_checkpoint

pytestmark = pytest.mark.slow  # torch.compile traces: seconds per test

SETTINGS = dict(TINY, epochs=2, batch_size=256)  # 5 steps an epoch: few enough that rounding has not grown chaotic


TRACED = {"compile_backend": "aot_eager"}  # train()'s option: torch.compile traces, runs unfused


@pytest.fixture
def traced():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def losses(run_dir):
    return [json.loads(line)["train_loss"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def assert_same_weights(run_a, run_b, tolerance):
    a, b = load_checkpoint(run_a / "checkpoint.pt")["model"], load_checkpoint(run_b / "checkpoint.pt")["model"]
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=tolerance, atol=tolerance, msg=key)


@pytest.mark.parametrize("recipe", [{}, {"exit_ramp": 0.5, "auxiliary_gradient": 0.5}], ids=["default", "ramp"])
def test_compiled_run_matches_the_eager_run(tmp_path, digits, traced, recipe):
    """Two epochs, the same losses to 1e-5 and weights to 1e-3: the traced graph orders some float sums differently,
    and training grows such rounding (two eager runs 1e-7 apart at the start drift as far within a few steps)."""
    train(TrainConfig.from_flat(**SETTINGS, **recipe), tmp_path / "eager", show_progress=False, data=digits)
    train(TrainConfig.from_flat(**SETTINGS, **recipe, compile=True), tmp_path / "compiled", show_progress=False, data=digits,
          **TRACED)
    torch.testing.assert_close(losses(tmp_path / "compiled"), losses(tmp_path / "eager"), rtol=1e-5, atol=0)
    assert_same_weights(tmp_path / "eager", tmp_path / "compiled", tolerance=1e-3)


def test_compiled_run_resumes_exactly(tmp_path, digits, monkeypatch, traced):
    settings = dict(SETTINGS, compile=True)
    train(TrainConfig.from_flat(**settings), tmp_path / "straight", show_progress=False, data=digits, **TRACED)
    interrupt_and_resume(tmp_path / "resumed", digits, monkeypatch, stop_after_steps=7, settings=settings, **TRACED)
    assert_same_weights(tmp_path / "straight", tmp_path / "resumed", tolerance=0)


def test_a_resume_may_turn_compile_on(tmp_path, digits, monkeypatch, traced):
    """How a step runs is the caller's choice at every start; what it computes stays the checkpoint's."""
    train(TrainConfig.from_flat(**SETTINGS), tmp_path / "straight", show_progress=False, data=digits)
    interrupt_and_resume(tmp_path / "resumed", digits, monkeypatch, stop_after_steps=7, settings=SETTINGS,
                         resume_settings=dict(SETTINGS, compile=True, epochs=9), **TRACED)  # epochs: the checkpoint's, 2
    assert_same_weights(tmp_path / "straight", tmp_path / "resumed", tolerance=1e-3)
    saved = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["train_config"]
    assert (saved["compile"], saved["epochs"]) == (True, 2)


def test_cli_resume_accepts_compile_and_refuses_other_changes(tmp_path, digits, monkeypatch, capsys):
    from dnnet.cli.main import main

    out = tmp_path / "run"
    train(TrainConfig.from_flat(**SETTINGS), out, show_progress=False, data=digits)  # the check reads only its checkpoint
    monkeypatch.setattr("dnnet.cli.train_command.train", lambda config, *a, **k: seen.append(config) or {})
    seen = []
    assert main(["train", "--resume", "--out", str(out), "--compile", "--quiet"]) == 0
    assert seen[0].runtime.compile and seen[0].optimiser.batch_size == 256
    assert main(["train", "--resume", "--out", str(out), "--batch-size", "64"]) == 2
    assert "holds a run with batch_size=256" in capsys.readouterr().err


def test_a_failing_compiler_falls_back_to_the_eager_step(tmp_path, digits, monkeypatch, capsys):
    def broken_backend(graph, example_inputs):
        raise RuntimeError("no compiler here")

    torch._dynamo.reset()
    train(TrainConfig.from_flat(**SETTINGS), tmp_path / "eager", show_progress=False, data=digits)
    train(TrainConfig.from_flat(**SETTINGS, compile=True), tmp_path / "fallback", show_progress=False, data=digits,
          compile_backend=broken_backend)
    torch._dynamo.reset()
    assert capsys.readouterr().err.count("torch.compile failed") == 1  # one line, then eager for the whole run
    assert losses(tmp_path / "fallback") == losses(tmp_path / "eager")
    assert_same_weights(tmp_path / "eager", tmp_path / "fallback", tolerance=0)


def test_compile_is_refused_with_the_sandwich_rule():
    with pytest.raises(UserError, match="compile applies to the joint objective"):
        TrainConfig.from_flat(objective="sandwich", compile=True)


def test_compile_mode_is_checked_and_needs_compile():
    with pytest.raises(UserError, match="compile_mode must be one of"):
        TrainConfig.from_flat(**SETTINGS, compile=True, compile_mode="fast")
    with pytest.raises(UserError, match="compile_mode 'cuda-graphs' applies to a compiled step: add compile"):
        TrainConfig.from_flat(**SETTINGS, compile_mode="cuda-graphs")


@pytest.mark.parametrize("device, backend, expected", [
    ("cuda", "inductor", {"mode": "reduce-overhead"}),
    ("cpu", "inductor", {"mode": "default"}),  # CUDA graphs only record on a GPU
    ("cuda", "aot_eager", {}),  # a mode is inductor's
])
def test_cuda_graphs_reach_torch_compile_only_on_a_gpu_with_inductor(monkeypatch, device, backend, expected):
    seen = {}

    def fake_compile(fn, **options):
        seen.update(options)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    step = training_step.build_training_step(torch.nn.Identity(), torch.nn.Identity(), torch.device(device), amp=False,
                                             compile=True, compile_mode="reduce-overhead", backend=backend)
    assert {k: v for k, v in seen.items() if k == "mode"} == expected
    assert step.cuda_graphs == (expected.get("mode") == "reduce-overhead")
