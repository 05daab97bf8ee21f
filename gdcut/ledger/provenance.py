"""Where and how a run happened: the provenance block of the ledger."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


def _git(rootdir: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=rootdir, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _version(distribution: str, module_name: str) -> str:
    """The installed version of ``distribution``, read without importing it unless already imported.

    Importing torchvision or scikit-learn only to read a version string costs seconds at the end of
    every run.
    """
    module = sys.modules.get(module_name)
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def deepnet_data(cifar_dir: str | None) -> str:
    """Which data set the deep-net claims train on (the choice gdcut.data.load makes)."""
    from gdcut.data import FASHION_MNIST_DIR

    if cifar_dir:
        return f"CIFAR-10 ({cifar_dir})"
    if FASHION_MNIST_DIR.is_dir():
        return f"Fashion-MNIST stand-in for CIFAR-10 ({FASHION_MNIST_DIR})"
    return "none found (deep-net claims not run: pass --gdcut-cifar10=DIR or apt-get install dataset-fashion-mnist)"


def runtime_facts(precision_name: str = "paper", cifar_dir: str | None = None) -> dict:
    """What the process that ran the tests sees: CUDA, the device, torch's numerical flags, the deep-net data.

    Imports torch. ``cuda`` is a bool (the deep-net scale depends on it); the other
    values are the ledger's provenance text, read when the process's session ends.
    Under pytest-xdist each worker sends these to the controller, which runs no test
    and so never imports torch for them (1.8 s at the end of every parallel run);
    :func:`combined_facts` joins them.
    """
    import torch

    from gdcut import precision

    cuda = torch.cuda.is_available()
    if cuda:
        device = f"cuda: {torch.cuda.get_device_name(0)} (x{torch.cuda.device_count()})"
    else:
        device = f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores (no CUDA)"
    facts = {"cuda": cuda, "device": device, "float32 matmul precision": torch.get_float32_matmul_precision()}
    if cuda:  # the provenance names only what applies to the device: no cuDNN or TF32 flag without CUDA
        facts["cuda matmul allow_tf32"] = str(torch.backends.cuda.matmul.allow_tf32)
        facts["cudnn allow_tf32"] = str(torch.backends.cudnn.allow_tf32)
    facts["deep-net precision"] = on_device(precision.describe(precision_name), cuda)
    facts["deep-net data"] = deepnet_data(cifar_dir)
    return facts


#: Words that name settings of CUDA devices only.
CUDA_ONLY = ("cuDNN", "CUDA", "TF32", "cudnn", "tf32")


def on_device(text: str, cuda: bool) -> str:
    """A "; "-separated description with the parts that apply only to CUDA dropped when there is none."""
    if cuda:
        return text
    kept = [part for part in text.split("; ") if not any(word in part for word in CUDA_ONLY)]
    return "; ".join(kept) + "; no CUDA device here, so only these settings apply"


def combined_facts(per_worker: list[dict]) -> dict:
    """The :func:`runtime_facts` of several xdist workers as one: a value they share, or each value they hold.

    ``cuda`` is true when any worker saw CUDA. A flag that differs between workers
    (a test that changed it in one of them) reads "varies across workers: ...".
    """
    combined = {"cuda": any(facts["cuda"] for facts in per_worker)}
    for key in per_worker[0]:
        if key == "cuda":
            continue
        values = sorted({str(facts.get(key)) for facts in per_worker})
        combined[key] = values[0] if len(values) == 1 else "varies across workers: " + " | ".join(values)
    return combined


def collect(rootdir: Path, args: list[str], scale: str, duration_s: float, exitstatus: int, workers, facts: dict,
            mutant: str | None = None, shard: str | None = None) -> dict:
    """Provenance of this run as flat ``name -> text`` pairs: the ledger's record of where and how it ran.

    ``facts`` is :func:`runtime_facts` of a process that ran the tests. ``mutant`` is
    the ``gdcut.mutation`` mutant installed in this session (``--gdcut-mutant``),
    if any; ``shard`` is ``--gdcut-shard``. (A training run's own numerical
    settings are ``gdcut.train.numerical_settings``, on its card.)
    """
    from hypothesis import settings

    commit = _git(rootdir, "rev-parse", "HEAD")
    dirty = bool(_git(rootdir, "status", "--porcelain", "--untracked-files=no"))
    return {
        "git commit": (commit or "unknown (not a git checkout)") + (" (dirty working tree)" if dirty else ""),
        # so that a rule's "last changed in" can be compared with the run's commit by date
        "git commit date": _git(rootdir, "show", "-s", "--format=%cI", "HEAD") or "unknown",
        "command": shlex.join(["pytest", *args]),
        "date (UTC)": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(duration_s, 2),
        "exit status": int(exitstatus),
        "xdist workers": str(workers or 0),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": _version("torch", "torch"),
        "torchvision": _version("torchvision", "torchvision"),
        "numpy": _version("numpy", "numpy"),
        "scipy": _version("scipy", "scipy"),
        "scikit-learn": _version("scikit-learn", "sklearn"),
        "hypothesis": _version("hypothesis", "hypothesis"),
        "hypothesis profile": settings.get_current_profile_name(),
        "device": facts["device"],
        "deep-net scale": scale,
        "deep-net data": facts["deep-net data"],
        "mutant": mutant or "none (the real implementation)",
        "float32 matmul precision": facts["float32 matmul precision"],
        **{key: facts[key] for key in ("cuda matmul allow_tf32", "cudnn allow_tf32") if key in facts},
        "deep-net precision": facts["deep-net precision"],
        "deep-net shard": shard or "all (not sharded)",
    }
