"""One training step's forward pass, joint loss and backward pass as one callable: eager, or through torch.compile."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch import nn

# (images, labels, widths, coefficients, teacher logits) -> (loss, logits of the trained cells), the gradients accumulated
TrainingStep = Callable[[torch.Tensor, torch.Tensor, "list[int] | None", "torch.Tensor | None", "torch.Tensor | None"],
                        tuple[torch.Tensor, torch.Tensor]]


def eager_step(forward: nn.Module, loss_fn: nn.Module, bf16_autocast: bool) -> TrainingStep:
    """The forward pass over the trained cells and their joint loss, under bfloat16 autocast if asked (GPU), then backward."""
    loss_of = loss_function(forward, loss_fn, bf16_autocast)

    def step(images, labels, widths, coefficients, teacher_logits=None):
        loss, logits = loss_of(images, labels, widths, coefficients, teacher_logits)
        loss.backward()
        return loss, logits

    return step


def loss_function(forward: nn.Module, loss_fn: nn.Module, bf16_autocast: bool) -> TrainingStep:
    """The step's loss and logits, without the backward pass (what torch.compile traces)."""

    def loss_of(images: torch.Tensor, labels: torch.Tensor, widths: list[int] | None, coefficients: torch.Tensor | None,
                teacher_logits: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16_autocast):
            logits = forward(images, widths)
            return loss_fn(logits.float(), labels, coefficients, teacher_logits), logits

    return loss_of


class CompiledStep:
    """The step with its loss through torch.compile (the backward pass is compiled with it). If compiling fails
    (no compiler on the platform, an unsupported op), one line says so on stderr, the step's gradients are cleared
    and it runs eagerly, then and at every later step: the run goes on unharmed.

    `backend`: torch.compile's ("inductor" generates fused kernels; "aot_eager" traces the same forward and
    backward graphs and runs them unfused, which tests check in seconds).
    """

    def __init__(self, forward: nn.Module, loss_fn: nn.Module, bf16_autocast: bool, backend: str | Callable = "inductor",
                 mode: str = "default") -> None:
        self.parameters = list(forward.parameters())
        self.eager = eager_step(forward, loss_fn, bf16_autocast)
        # a mode is inductor's: another backend traces as it always does
        options = {"mode": mode} if backend == "inductor" else {}
        self.compiled_loss = torch.compile(loss_function(forward, loss_fn, bf16_autocast), backend=backend, dynamic=False,
                                           **options)
        self.cuda_graphs = backend == "inductor" and mode == "reduce-overhead"
        self.failed: str | None = None  # why compiling failed, once it has
        self.compiled_once = False

    def __call__(self, images, labels, widths, coefficients, teacher_logits=None):
        if self.failed is not None:
            return self.eager(images, labels, widths, coefficients, teacher_logits)
        if self.compiled_once:
            return self._compiled(images, labels, widths, coefficients, teacher_logits)
        try:  # the first call compiles the forward pass, the first backward pass compiles its graph
            result = self._compiled(images, labels, widths, coefficients, teacher_logits)
        except Exception as error:  # torch's compile errors share no base class across versions
            message = str(error).strip().splitlines()
            self.failed = f"{type(error).__name__}: {message[0] if message else ''}"
            print(f"dnnet: torch.compile failed ({self.failed}); training eagerly", file=sys.stderr)
            for parameter in self.parameters:
                parameter.grad = None
            return self.eager(images, labels, widths, coefficients, teacher_logits)
        self.compiled_once = True
        return result

    def _compiled(self, images, labels, widths, coefficients, teacher_logits=None):
        if self.cuda_graphs:  # a new step: the graphs may reuse the last step's output memory (read by then)
            torch.compiler.cudagraph_mark_step_begin()
        loss, logits = self.compiled_loss(images, labels, widths, coefficients, teacher_logits)
        loss.backward()
        return loss, logits


def build_training_step(forward: nn.Module, loss_fn: nn.Module, device: torch.device, amp: bool, compile: bool,
                        compile_mode: str = "default", backend: str | Callable = "inductor") -> TrainingStep:
    """The step as the run's settings ask: bf16 autocast with `amp` on a GPU, compiled with `compile` by torch.compile's
    `backend` in its `compile_mode` ("default", "reduce-overhead": CUDA graphs, which only a GPU records)."""
    bf16_autocast = amp and device.type == "cuda"
    if compile:
        return CompiledStep(forward, loss_fn, bf16_autocast, backend, compile_mode if device.type == "cuda" else "default")
    return eager_step(forward, loss_fn, bf16_autocast)
