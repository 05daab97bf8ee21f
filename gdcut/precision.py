"""How the deep-net runs compute: the paper's precision or bfloat16, and torch.compile with a fallback.

``paper`` is what the paper's code (v1 App. B, v2 App. C: plain PyTorch, no
precision settings of its own) got from PyTorch's defaults on a CUDA GPU:
cuDNN convolutions in TF32 (``torch.backends.cudnn.allow_tf32`` defaults to
True) and float32 matmuls (``torch.backends.cuda.matmul.allow_tf32`` defaults
to False since torch 1.12). ``bf16`` autocasts the forward pass (and so the
backward of every autocast op) to bfloat16; weights, gradients, the L1
subgradient and the optimiser state stay float32 in both, because the paper's
threshold 1e-5 (v1 §3, v2 Table 2) is below bfloat16's resolution near 1.

Both set the TF32 flags explicitly rather than trusting the defaults of
whichever torch is installed, and ``describe`` is what the ledger records.

``torch.compile`` (``GDCUT_COMPILE``: ``auto``, ``on`` or ``off``) is on by
default on CUDA only: on a CPU, Inductor's first compile of a VGG takes longer
than a tiny or smoke run trains, so CPU tests stay fast with eager mode.
"""
from __future__ import annotations

import os
import warnings

import torch

from gdcut import validation

#: --gdcut-precision -> TrainConfig.forward_dtype
PRECISIONS = {"paper": "float32", "bf16": "bfloat16"}
COMPILE_ENV = "GDCUT_COMPILE"
COMPILE_MODES = ("auto", "on", "off")


def forward_dtype(precision: str) -> str:
    """The ``TrainConfig.forward_dtype`` a precision option selects."""
    validation.one_of("precision", precision, PRECISIONS)
    return PRECISIONS[precision]


def set_kernel_flags() -> dict:
    """Set the TF32 flags to PyTorch's defaults on the paper's GPU (cuDNN TF32 on, matmul TF32 off); return them.

    The same for both precisions: under ``bf16`` autocast the convolutions and
    matmuls run in bfloat16 anyway, and what stays float32 keeps the paper's flags.
    """
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    return {"cudnn.allow_tf32": True, "cuda.matmul.allow_tf32": False, "float32_matmul_precision": "highest"}


def describe(precision: str) -> str:
    """One line for the ledger's provenance."""
    validation.one_of("precision", precision, PRECISIONS)
    forward = "float32 forward" if precision == "paper" else "bfloat16 autocast forward/backward"
    return (f"{precision}: {forward}; weights, gradients, L1 subgradient and optimiser state float32; "
            "cuDNN TF32 on, CUDA matmul TF32 off (set explicitly, PyTorch's defaults on the paper's GPU)")


def compile_wanted(device: torch.device) -> bool:
    """Whether ``train`` compiles the model on ``device``: ``GDCUT_COMPILE`` (auto = on CUDA only)."""
    mode = os.environ.get(COMPILE_ENV, "auto")
    validation.one_of(COMPILE_ENV, mode, COMPILE_MODES)
    return mode == "on" or (mode == "auto" and torch.device(device).type == "cuda")


class CompiledOrEager:
    """``torch.compile(model)`` when wanted, falling back to ``model`` itself when compiling fails.

    ``model`` is a module or any function of the input batch (``gdcut.stacked``
    passes a vmapped one).

    Compilation happens at the first call, so the fallback catches it there
    (no C compiler, an unsupported GPU, a Dynamo bug) and every later call runs
    eager. ``path`` says which ran, for the result's ``numerics``.
    """

    def __init__(self, model: torch.nn.Module, wanted: bool):
        self.model = model
        self.compiled = None
        self.path = "eager (torch.compile not requested on this device)"
        if wanted:
            try:
                self.compiled = torch.compile(model)
                self.path = "torch.compile"
            except Exception as error:  # torch.compile missing or refusing this platform
                self._fall_back(error)

    def _fall_back(self, error: Exception) -> None:
        self.compiled = None
        self.path = f"eager (torch.compile failed: {type(error).__name__}: {str(error)[:120]})"
        warnings.warn(f"gdcut: {self.path}")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.compiled is not None:
            try:
                return self.compiled(x)
            except Exception as error:  # the compile itself runs here, at the first call
                self._fall_back(error)
        return self.model(x)
