"""How a run's steps execute. `ExecutionSettings` can change the numbers (precision, memory format, evaluation
batches) and stays with the run; `RuntimeSettings` cannot, so a resumed run takes them from its caller."""

from __future__ import annotations

from dataclasses import dataclass

from dnnet.errors import UserError
from dnnet.layers.causal_schemes import parse_scheme
from dnnet.runs.setting_field import setting

# torch.compile's mode per `compile_mode`: "cuda-graphs" also records the compiled step's kernels as CUDA graphs and
# replays them, one launch for the lot (a GPU only: elsewhere torch compiles as "default")
COMPILE_MODES = {"default": "default", "cuda-graphs": "reduce-overhead"}


@dataclass(frozen=True)
class ExecutionSettings:
    amp: bool = setting(True, "bfloat16 autocast on a GPU (ignored on the CPU); ")
    channels_last: bool | None = setting(None, "memory format of activations (unset: on GPUs, and on a CPU running one "
                                               "thread, as measured in docs/benchmarks.md); ")
    eval_batch_size: int = setting(500, "batch of the evaluations after each epoch and at the end; ")
    causal_scheme: str = setting("dense", "how the causal convolutions execute: dense (one masked convolution, the "
                                          "fastest measured on CPUs and GPUs), chunks:K or halvings:L (fewer MACs, the "
                                          "same outputs to rounding; docs/benchmarks.md); ", metavar="SCHEME")

    def __post_init__(self) -> None:
        if self.eval_batch_size < 1:  # checked now, not after a whole epoch of training
            raise UserError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
        try:
            parse_scheme(self.causal_scheme)
        except ValueError as error:
            raise UserError(str(error)) from None


@dataclass(frozen=True)
class RuntimeSettings:
    tensorboard: bool = setting(False, "each epoch's metrics also as TensorBoard scalars in OUT/tensorboard (pip extra "
                                       "'tensorboard'); ")
    compile: bool = setting(False, "the training step through torch.compile: fused kernels, for GPUs, where launching "
                                   "kernels bounds a step (the same losses to rounding; training goes on eagerly if "
                                   "compiling fails; a resume may change it); ")
    compile_mode: str = setting("default", "with --compile: default, or cuda-graphs (the compiled step's kernels replayed "
                                           "as CUDA graphs, a GPU only); ")

    def __post_init__(self) -> None:
        if self.compile_mode not in COMPILE_MODES:
            raise UserError(f"compile_mode must be one of {tuple(COMPILE_MODES)}, got {self.compile_mode!r}")
        if self.compile_mode != "default" and not self.compile:
            raise UserError(f"compile_mode {self.compile_mode!r} applies to a compiled step: add compile")
