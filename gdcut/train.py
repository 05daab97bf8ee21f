"""One training loop for every deep-network experiment of the paper.

v2 §3 Fig. 2 (ReLU vs GELU, with and without batch norm) and v1 App. B /
v2 App. C (VGG16 with L1-penalised cross entropy) both run through ``train``:

* seeded (initialisation, batch order and dropout all follow ``config.seed``),
  deterministic where torch allows (cuDNN deterministic, no benchmark, as the
  paper's code sets);
* batches are index slices of tensors already on the device (``gdcut.data``);
* the L1 term adds ``lambda1 * sign(p)`` to each gradient in place after
  ``backward``, which is the gradient the paper's ``sum(abs(p))`` autograd
  formulation gives (torch's ``abs`` backward is ``sign``, 0 at 0) without the
  autograd graph over every parameter;
* weights, gradients and optimiser state stay float32 whatever the forward
  precision, since the paper's threshold is 1e-5 on the weights;
* results are cached on disk under a hash of everything that decides them
  (``cache_key``), read back without executing code (``weights_only``), and a
  checkpoint after every epoch lets an interrupted paper-scale run resume;
  with ``progress`` a tqdm bar or one line per epoch reports it (``gdcut.progress``);
* on CUDA the model runs through ``torch.compile`` with an eager fallback
  (``gdcut.precision``), and the result records which path ran;
* as in v2 App. C, a run may start from the optimiser state another run ended
  with (``TrainConfig.optimiser_state_from``).
"""
from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import importlib
import inspect
import json
import math
import numbers
import time
import warnings
from contextlib import closing, contextmanager
from pathlib import Path

import torch
from torch import nn

from gdcut import models, optimisers, precision, validation
from gdcut.data import DeviceData
from gdcut.ledger.registry import claim
from gdcut.progress import RunProgress

FORWARD_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
#: A weight counts as prunable when |w| is below this (v1 §3, v2 Table 2).
PAPER_THRESHOLD = claim("L20").paper_value("small-weight threshold")
WEIGHT_SAMPLE = 20_000  # initial weights kept per run for the penalty-only prediction
#: Thresholds t at which a run's final share of |w| < t is recorded, to draw the threshold as a curve: four per
#: decade, three decades either side of the paper's threshold, which is the middle one exactly (k = 0).
SHARE_THRESHOLDS = tuple(PAPER_THRESHOLD * 10.0 ** (k / 4) for k in range(-12, 13))
# the code a run's result depends on (gdcut.stacked trains runs that are cached under the same keys)
RUN_MODULES = ("gdcut.train", "gdcut.models", "gdcut.data", "gdcut.precision", "gdcut.stacked", "gdcut.optimisers")
# what a run and the run it takes its optimiser state from must share: the same parameter
# tensors (model, width, batch norm) under the same optimiser, as App. C's loop has
SHARED_WITH_STATE_SOURCE = ("model", "optimiser", "lr", "width_divisor", "batch_size", "batch_norm")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run; its hash (with data, code and machine, ``cache_key``) is the cache key.

    ``optimiser_state_from`` is the run whose final optimiser state this run
    starts from, with the weights reset to this run's own initialisation: v2
    App. C builds one optimiser per kind and reuses it across the λ1 loop, λ1 = 2
    first, so the λ1 = 0.002 run starts with the RMSProp/Adam state (moments and
    step count) the λ1 = 2 run left. SGD without momentum keeps no state.
    """

    model: str
    optimiser: str
    lr: float
    epochs: int
    batch_size: int
    seed: int
    activation: str = "relu"
    batch_norm: bool = False
    width_divisor: int = 1
    pretrained: bool = True
    lambda1: float = 0.0
    shuffle: bool = True
    forward_dtype: str = "float32"
    optimiser_state_from: TrainConfig | None = None

    def __post_init__(self):
        validation.one_of("model", self.model, [*models.CFG, "VGG16"])
        validation.one_of("optimiser", self.optimiser, optimisers.OPTIMISERS)
        validation.positive("lr", self.lr)
        validation.positive_int("epochs", self.epochs)
        validation.positive_int("batch_size", self.batch_size)
        validation.non_negative_int("seed", self.seed)
        validation.one_of("activation", self.activation, models.ACTIVATIONS)
        validation.boolean("batch_norm", self.batch_norm)
        validation.positive_int("width_divisor", self.width_divisor)
        validation.boolean("pretrained", self.pretrained)
        validation.non_negative("lambda1", self.lambda1)
        validation.boolean("shuffle", self.shuffle)
        validation.one_of("forward_dtype", self.forward_dtype, FORWARD_DTYPES)
        source = self.optimiser_state_from
        if source is not None:
            if not isinstance(source, TrainConfig):
                raise ValueError(f"optimiser_state_from must be None or a TrainConfig, got {type(source).__name__}")
            differing = [name for name in SHARED_WITH_STATE_SOURCE if getattr(source, name) != getattr(self, name)]
            if differing:
                raise ValueError(f"optimiser_state_from must be a run with the same {', '.join(differing)} "
                                 f"as this one, got {source.describe()}")

    @classmethod
    def from_dict(cls, fields: dict) -> TrainConfig:
        """The config ``dataclasses.asdict`` turned into ``fields`` (how results and the cache store it)."""
        source = fields.get("optimiser_state_from")
        return cls(**dict(fields, optimiser_state_from=None if source is None else cls.from_dict(source)))

    def describe(self) -> str:
        arch = self.model if self.model != "VGG16" else f"VGG16/{self.width_divisor}" if self.width_divisor > 1 else "VGG16"
        extra = f" {self.activation}{' +BN' if self.batch_norm else ''}" if self.model != "VGG16" else ""
        after = f" after λ1={self.optimiser_state_from.lambda1:g}" if self.optimiser_state_from is not None else ""
        return (f"{arch}{extra} {self.optimiser} lr={self.lr:g} λ1={self.lambda1:g} "
                f"{self.epochs} ep × batch {self.batch_size} seed {self.seed}{after}")


@dataclasses.dataclass(frozen=True, eq=False)
class TrainResult:
    """What one run of ``train`` measured, and how it ran.

    The cache stores it as plain data (``to_plain``, read back by
    ``from_plain`` with ``torch.load(weights_only=True)``), never as an object.
    """

    config: TrainConfig
    data: str  # DeviceData.identity of the data set it trained on
    initialisation: str  # how the weights were initialised (gdcut.models.build)
    steps: int  # optimiser steps this run took
    optimiser_steps: int  # the optimiser's step count at the end, a predecessor's steps included (v2 App. C)
    step_loss: tuple[float, ...]  # training cross entropy per step
    epoch_loss: tuple[float, ...]  # its mean per epoch
    epoch_l1: tuple[float, ...]  # L1 norm of all parameters at the end of each epoch
    epoch_share: tuple[float, ...]  # share of |w| < 1e-5 at the end of each epoch
    epoch_seconds: tuple[float, ...]
    share_below_threshold: float  # at the end of the run
    parameters: int
    test_accuracy: float
    initial_weight_sample: torch.Tensor  # WEIGHT_SAMPLE initial weights, for the penalty-only prediction
    numerics: dict  # numerical_settings() of the device, with "compile" (and "stacked" from gdcut.stacked)
    final_shares: tuple[float, ...] = ()  # share of |w| < t at the end of the run, for t in SHARE_THRESHOLDS
    key: str | None = None  # the cache key (None for a run made without a cache)
    from_cache: bool = False  # read from the cache rather than trained in this call

    def to_plain(self) -> dict:
        """The result as dicts, lists and plain numbers (what the cache stores); ``from_cache`` is not stored."""
        plain = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                 if field.name != "from_cache"}
        return _plain(dict(plain, config=dataclasses.asdict(self.config)), "result")

    @classmethod
    def from_plain(cls, stored: dict, from_cache: bool) -> TrainResult:
        """The result ``to_plain`` stored."""
        fields = {field.name: stored[field.name] for field in dataclasses.fields(cls) if field.name != "from_cache"}
        curves = {name: tuple(fields[name]) for name in
                  ("step_loss", "epoch_loss", "epoch_l1", "epoch_share", "epoch_seconds", "final_shares")}
        return cls(**dict(fields, **curves, config=TrainConfig.from_dict(stored["config"])), from_cache=from_cache)


def weights_l1_norm(params) -> float:
    """sum |p| over all parameters, accumulated in float64 (138M float32 terms lose digits otherwise)."""
    params = [p.detach() for p in params]
    return float(sum(norm.double() for norm in torch._foreach_norm(params, 1))) if params else 0.0


def add_l1_subgradient_(params, lambda1: float, bucket_elements: int = 1 << 24) -> None:
    """p.grad += lambda1 * sign(p) in place: the gradient of lambda1 * sum|p| as autograd gives it.

    ``sign`` is 0 at 0, like torch's ``abs`` backward. Parameters are handled in
    buckets of at most ``bucket_elements`` entries so the temporary signs never
    amount to a copy of the whole model. Parameters without a gradient get one,
    as they would from the penalty alone.
    """
    validation.non_negative("lambda1", lambda1)
    validation.positive_int("bucket_elements", bucket_elements)
    if lambda1 == 0:
        return
    bucket: list[torch.Tensor] = []
    size = 0
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        bucket.append(p)
        size += p.numel()
        if size >= bucket_elements:
            _add_signs(bucket, lambda1)
            bucket, size = [], 0
    if bucket:
        _add_signs(bucket, lambda1)


def _add_signs(bucket: list[torch.Tensor], lambda1: float) -> None:
    signs = torch._foreach_sign([p.detach() for p in bucket])
    torch._foreach_add_([p.grad for p in bucket], signs, alpha=lambda1)


def share_below_threshold(model: nn.Module, threshold: float = PAPER_THRESHOLD) -> float:
    """Share of parameters with |w| < threshold, counted as App. C's ``get_num_prunable_params``.

    Like the paper, the numerator counts tensors whose name contains 'weight' or
    'bias' and the denominator all parameters (the same set for VGG).
    """
    validation.positive("threshold", threshold)
    total, small = 0, 0
    for name, param in model.named_parameters():
        total += param.numel()
        if "weight" in name or "bias" in name:
            small += int((param.detach().abs() < threshold).sum())
    return small / total


def final_shares(model: nn.Module) -> tuple[float, ...]:
    """``share_below_threshold`` at each of ``SHARE_THRESHOLDS``."""
    return tuple(share_below_threshold(model, t) for t in SHARE_THRESHOLDS)


def sample_weights(model: nn.Module, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` parameter entries drawn uniformly (with replacement) from all parameters, float32 CPU."""
    validation.positive_int("count", count)
    sizes = torch.tensor([p.numel() for p in model.parameters()])
    total = int(sizes.sum())
    flat_index = torch.randint(total, (count,), generator=generator)
    offsets = torch.cumsum(sizes, 0)
    which = torch.searchsorted(offsets, flat_index, right=True)
    values = torch.empty(count)
    start = 0
    for k, p in enumerate(model.parameters()):
        chosen = which == k
        if chosen.any():
            values[chosen] = p.detach().reshape(-1)[(flat_index[chosen] - start).to(p.device)].float().cpu()
        start += p.numel()
    return values


def numerical_settings(device: torch.device) -> dict:
    """The numerical settings a run's result depends on (torch version, matmul precision, cuDNN and TF32 flags)."""
    info = {
        "torch": str(torch.__version__),  # a str subclass otherwise, which the cache stores as str
        "device": str(device),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn.deterministic": torch.backends.cudnn.deterministic,
        "cudnn.benchmark": torch.backends.cudnn.benchmark,
        "weights_dtype": "float32",
    }
    if device.type == "cuda":
        info["cuda.matmul.allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
        info["cudnn.allow_tf32"] = torch.backends.cudnn.allow_tf32
        info["gpu"] = torch.cuda.get_device_name(device)
    else:
        info["cpu_threads"] = torch.get_num_threads()
        info["subnormals"] = "flushed to zero" if FLUSH_SUBNORMALS_ON_CPU else "kept"
    return info


def precision_summary(result: TrainResult) -> str:
    """One line for the ledger: the precision a run's weights, forward pass and matmuls used."""
    numerics = result.numerics
    text = (f"weights and updates {numerics['weights_dtype']}, forward {result.config.forward_dtype}, "
            f"float32 matmul precision '{numerics['float32_matmul_precision']}', torch {numerics['torch']}")
    if "cuda.matmul.allow_tf32" in numerics:  # cuDNN and TF32 apply only on CUDA
        text += (f", cuDNN deterministic, TF32 matmul {numerics['cuda.matmul.allow_tf32']}, TF32 cuDNN {numerics['cudnn.allow_tf32']}, "
                 f"{numerics['gpu']}")
    text += f", model {numerics['compile']}"
    if "stacked" in numerics:  # gdcut.stacked trained this run with other seeds at once
        text += f", {numerics['stacked']}"
    return text


def share_cpu_between_workers(device: torch.device) -> None:
    """Under pytest-xdist on a CPU, give each worker its share of the cores instead of all of them.

    Two workers each running as many threads as there are cores slow both down.
    """
    import os

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if torch.device(device).type == "cpu" and workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@functools.cache
def code_digest() -> str:
    """sha256 of the source of ``RUN_MODULES`` (loop, networks, data, compile, stacked runs).

    These modules produce a run (loop, networks and initialisation, data
    pipeline, compiled or eager model, several seeds at once), so an edit to any of them may change its result; the digest in
    the cache key keeps a result made by other code from being served. Read once
    per process: the code that runs is the code imported at its start.
    """
    digest = hashlib.sha256()
    for name in RUN_MODULES:
        digest.update(inspect.getsource(importlib.import_module(name)).encode())
    return digest.hexdigest()


def _kernel_settings(device: torch.device) -> dict:
    # Settings that change which kernels run and so the rounding of a result.
    if device.type == "cuda":
        return {"gpu": torch.cuda.get_device_name(device),
                "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                "compile": precision.compile_wanted(device)}
    # on a CPU the instruction set picks the oneDNN/ATen kernels and the thread
    # count how reductions are split: both change the last bits of a result
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu_threads": torch.get_num_threads(),
            "compile": precision.compile_wanted(device)}


def cache_key(config: TrainConfig, data: DeviceData) -> str:
    """sha256 of everything a run's result depends on, so the cache never serves another run's result.

    The full configuration (with the run it takes its optimiser state from), the
    data set identity, the device type, the torch version, ``code_digest()``, the
    paper's small-weight threshold (read from claims.toml, so outside the code
    digest, and every cached share depends on it) and the kernel settings: CPU
    instruction set and thread count on a CPU, GPU name and TF32 flags on CUDA.
    """
    payload = {"config": dataclasses.asdict(config), "data": data.identity, "device": data.device.type,
               "threshold": PAPER_THRESHOLD,
               "torch": str(torch.__version__), "code": code_digest(), "kernels": _kernel_settings(data.device)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


@dataclasses.dataclass(frozen=True)
class _CacheEntry:
    """The files of one run in the cache directory, ``<key>.<kind>.pt``.

    Kinds: ``result`` (``TrainResult.to_plain``), ``checkpoint`` (the state after
    the last finished epoch of an interrupted run), ``final`` (the same state after
    the last epoch, kept when a longer run may resume from it) and ``optimiser``
    (the final ``optimiser.state_dict()``, kept when another run starts from it).
    """

    directory: Path
    key: str
    config: dict

    def path(self, kind: str) -> Path:
        return self.directory / f"{self.key}.{kind}.pt"

    def load(self, kind: str) -> dict | None:
        """The stored dict, or None when the file is absent, unreadable or made for another run (warned)."""
        path = self.path(kind)
        if not path.is_file():
            return None
        try:
            # weights_only: a cache file is data, never code to execute
            stored = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as error:  # truncated, not a torch file, or a type weights_only refuses
            problem = f"cannot be read ({type(error).__name__})"
        else:
            if isinstance(stored, dict) and stored.get("key") == self.key and stored.get("config") == self.config:
                return stored
            problem = "was written for another run"
        warnings.warn(f"training cache file {path} {problem}: ignored, the run is retrained")
        return None

    def save(self, kind: str, contents: dict) -> None:
        path = self.path(kind)
        tmp = path.with_suffix(".tmp")
        torch.save({**contents, "key": self.key, "config": self.config}, tmp)
        tmp.replace(path)  # atomic: a reader sees the old file or the whole new one


@contextmanager
def _locked(path: Path):
    # Two pytest-xdist workers asking for the same run: one trains, the other
    # waits and then reads the cache.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _deterministic():
    previous = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous


#: Whether training on a CPU flushes subnormal floats (|x| < 1.2e-38) to zero (``_subnormals_flushed``).
FLUSH_SUBNORMALS_ON_CPU = True


@contextmanager
def _subnormals_flushed(device: torch.device):
    # A CPU computes on subnormal floats in microcode, several times slower: once the penalty has pulled VGG16's
    # weights into their band (|w| about 1e-3), its activations shrink through 16 layers to below 1e-38, and an
    # Adam step at λ1 = 2, batch 512, at /16 took 1.2 s instead of 0.37 s (docs/performance.md). Flushed to zero
    # they cost nothing. What the claims read does not move: a gradient that small vanishes beside the penalty's
    # λ1·sign(w) in every update. torch sets the flag on the calling thread, so a
    # pytest-xdist worker with its one thread flushes every operation; CUDA keeps its own default.
    if device.type != "cpu" or not FLUSH_SUBNORMALS_ON_CPU:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)  # torch's default: the analytic claims' float readings keep subnormals


def train(config: TrainConfig, data: DeviceData, cache_dir: Path | str | None = None, progress: bool = False,
          checkpoint_every: int = 1, keep_optimiser_state: bool = False, keep_final_state: bool = False,
          extends: TrainConfig | None = None) -> TrainResult:
    """Run ``config`` on ``data`` (on ``data.device``), or return the cached result.

    With ``config.optimiser_state_from`` set, that run is trained (or read from
    the cache) first, and this run starts from its final optimiser state with
    its own freshly seeded weights: v2 App. C, one optimiser per kind reused
    across the λ1 loop, λ1 = 2 first. ``keep_optimiser_state`` stores this run's
    final optimiser state as ``<cache>/<key>.optimiser.pt`` for such a successor
    (without a cache directory there is nowhere to keep it).

    ``keep_final_state`` keeps everything a resume needs after the last epoch
    (``<cache>/<key>.final.pt``), so that a longer run of the same config can
    start there: ``extends`` names such a shorter run, and this run resumes from
    its kept final state when the cache holds one (else it trains from step 0).
    Either way the result is the one training from step 0 gives, bit for bit: the
    kept state is a resume checkpoint, weights, optimiser and random states.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(data, DeviceData):
        raise ValueError(f"data must be a DeviceData (gdcut.data.load), got {type(data).__name__}")
    validation.boolean("progress", progress)
    validation.positive_int("checkpoint_every", checkpoint_every)
    validation.boolean("keep_optimiser_state", keep_optimiser_state)
    validation.boolean("keep_final_state", keep_final_state)
    if extends is not None and (not isinstance(extends, TrainConfig) or extends.epochs >= config.epochs
                                or dataclasses.replace(extends, epochs=config.epochs) != config):
        raise ValueError(f"extends must be None or a shorter run of the same config ({config.describe()}), "
                         f"got {extends.describe() if isinstance(extends, TrainConfig) else type(extends).__name__}")
    result, _ = _train(config, data, None if cache_dir is None else Path(cache_dir), progress, checkpoint_every,
                       keep_optimiser_state, keep_final_state, extends)
    return result


def _train(config: TrainConfig, data: DeviceData, cache_dir: Path | None, progress: bool, checkpoint_every: int,
           keep_optimiser_state: bool, keep_final_state: bool = False,
           extends: TrainConfig | None = None) -> tuple[TrainResult, dict | None]:
    # train's body: the result and, with keep_optimiser_state, the final optimiser state a successor starts from
    if cache_dir is None:
        start_state = _starting_optimiser_state(config, data, None, progress, checkpoint_every)
        return _run(config, data, None, progress, checkpoint_every, start_state, keep_optimiser_state)
    entry = _CacheEntry(cache_dir, cache_key(config, data), dataclasses.asdict(config))
    with _locked(cache_dir / f"{entry.key}.lock"):
        stored = entry.load("result")
        kept = entry.load("optimiser") if keep_optimiser_state and stored is not None else None
        if stored is not None and (kept is not None or not keep_optimiser_state):
            return TrainResult.from_plain(stored, from_cache=True), kept["optimiser"] if kept is not None else None
        # inside this run's lock: two runs sharing a predecessor take its lock in turn, and the second reads it
        start_state = _starting_optimiser_state(config, data, cache_dir, progress, checkpoint_every)
        shorter = None if extends is None else \
            _CacheEntry(cache_dir, cache_key(extends, data), dataclasses.asdict(extends)).load("final")
        result, final_state = _run(config, data, entry, progress, checkpoint_every, start_state, keep_optimiser_state,
                                   shorter, keep_final_state)
        result = dataclasses.replace(result, key=entry.key)
        if keep_optimiser_state:
            entry.save("optimiser", {"optimiser": final_state})
        entry.save("result", result.to_plain())
        entry.path("checkpoint").unlink(missing_ok=True)
        return result, final_state


def _starting_optimiser_state(config: TrainConfig, data: DeviceData, cache_dir: Path | None, progress: bool,
                              checkpoint_every: int) -> dict | None:
    # v2 App. C: the optimiser state config.optimiser_state_from ended with, or None for a fresh optimiser
    if config.optimiser_state_from is None:
        return None
    _, state = _train(config.optimiser_state_from, data, cache_dir, progress, checkpoint_every,
                      keep_optimiser_state=True)
    return state


@dataclasses.dataclass
class _Live:
    """The objects a run trains and the generator of its batch order."""

    model: nn.Module
    params: list[torch.Tensor]
    optimiser: torch.optim.Optimizer
    shuffle: torch.Generator
    device: torch.device


def _fresh_history() -> dict:
    # what a run has measured so far, epoch by epoch (plain data: a checkpoint stores it)
    return {"epoch": 0, "step_loss": [], "epoch_loss": [], "epoch_l1": [], "epoch_share": [], "epoch_seconds": []}


def _run(config: TrainConfig, data: DeviceData, entry: _CacheEntry | None, progress: bool, checkpoint_every: int,
         start_state: dict | None, keep_optimiser_state: bool, shorter: dict | None = None,
         keep_final_state: bool = False) -> tuple[TrainResult, dict | None]:
    # shorter: the kept final state of a shorter run of this config (train's extends), resumed from when this
    # run has no checkpoint of its own, which would be further along
    torch.manual_seed(config.seed)
    model, initialisation = models.build(config.model, config.activation, config.batch_norm,
                                         config.width_divisor, config.pretrained)
    live = _start(config, model, data.device, start_state)
    initial = sample_weights(model, WEIGHT_SAMPLE, torch.Generator().manual_seed(config.seed))
    history = _restore(entry.load("checkpoint") if entry is not None else None, live) \
        or _restore(shorter, live) or _fresh_history()
    forward = precision.CompiledOrEager(model, precision.compile_wanted(data.device))
    model.train()  # the paper never switches to eval mode: dropout stays on for VGG16
    steps_per_epoch = math.ceil(len(data.train_labels) / config.batch_size)
    with _deterministic(), _subnormals_flushed(data.device), \
            _progress(config, history, steps_per_epoch, entry, progress) as report:
        for epoch in range(history["epoch"], config.epochs):
            start = time.perf_counter()
            losses = _train_epoch(config, data, live, forward, steps_per_epoch, report)
            if not torch.isfinite(losses).all():
                raise FloatingPointError(f"{config.describe()}: non-finite loss in epoch {epoch}")
            _record_epoch(history, live, losses, time.perf_counter() - start)
            if report is not None:
                report.epoch(history["epoch"], config.epochs, history["epoch_loss"][-1], history["epoch_l1"][-1],
                             history["epoch_seconds"][-1], len(data.train_labels))
            if entry is not None and history["epoch"] % checkpoint_every == 0 and history["epoch"] < config.epochs:
                _save_checkpoint(entry, "checkpoint", live, history)
    if entry is not None and keep_final_state:
        _save_checkpoint(entry, "final", live, history)
    steps = config.epochs * steps_per_epoch
    result = TrainResult(
        config=config, data=data.identity, initialisation=initialisation, steps=steps,
        optimiser_steps=_optimiser_step_count(live.optimiser, steps), step_loss=tuple(history["step_loss"]),
        epoch_loss=tuple(history["epoch_loss"]), epoch_l1=tuple(history["epoch_l1"]),
        epoch_share=tuple(history["epoch_share"]), epoch_seconds=tuple(history["epoch_seconds"]),
        share_below_threshold=share_below_threshold(model), final_shares=final_shares(model),
        parameters=sum(p.numel() for p in live.params),
        test_accuracy=accuracy(model, data), initial_weight_sample=initial,
        numerics={**numerical_settings(data.device), "compile": forward.path})
    return result, live.optimiser.state_dict() if keep_optimiser_state else None


def _start(config: TrainConfig, model: nn.Module, device: torch.device, start_state: dict | None) -> _Live:
    # the network on the device, its optimiser (from start_state where App. C hands one on) and the batch order
    # channels-last: ~20% faster convolutions on the CPU here (oneDNN) and the layout cuDNN prefers
    model.to(device=device, dtype=torch.float32, memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = optimisers.make_optimiser(config.optimiser, params, config.lr)
    if start_state is not None:
        optimiser.load_state_dict(start_state)
    return _Live(model, params, optimiser, torch.Generator(device="cpu").manual_seed(config.seed), device)


def _restore(saved: dict | None, live: _Live) -> dict | None:
    """The history of a ``_save_checkpoint``, with its weights, optimiser and random states put back; None if none."""
    if saved is None:
        return None
    live.model.load_state_dict(saved["model"])
    live.optimiser.load_state_dict(saved["optimiser"])
    live.shuffle.set_state(saved["shuffle_rng"])
    torch.set_rng_state(saved["cpu_rng"])
    if live.device.type == "cuda" and saved.get("cuda_rng") is not None:
        torch.cuda.set_rng_state(saved["cuda_rng"], live.device)
    return saved["state"]


def _train_epoch(config: TrainConfig, data: DeviceData, live: _Live, forward, steps_per_epoch: int,
                 report: RunProgress | None) -> torch.Tensor:
    """One epoch of ``training_step`` over the run's batch order; its per-step losses on the CPU."""
    n = len(data.train_labels)
    order = torch.randperm(n, generator=live.shuffle) if config.shuffle else torch.arange(n)
    order = order.to(live.device)
    autocast_dtype = FORWARD_DTYPES[config.forward_dtype]
    losses = torch.zeros(steps_per_epoch, device=live.device)
    for step in range(steps_per_epoch):
        x, y = data.batch(order[step * config.batch_size:(step + 1) * config.batch_size])
        losses[step] = training_step(forward, live.optimiser, live.params, x, y, config.lambda1, autocast_dtype)
        if report is not None:
            report.step(losses[step])
    return losses.cpu()


def _record_epoch(history: dict, live: _Live, losses: torch.Tensor, seconds: float) -> None:
    history["step_loss"].extend(losses.tolist())
    history["epoch_loss"].append(float(losses.mean()))
    history["epoch_l1"].append(weights_l1_norm(live.params))
    # per epoch, so a rule can tell a settled share from one still moving (gdcut.deepnet)
    history["epoch_share"].append(share_below_threshold(live.model))
    history["epoch_seconds"].append(seconds)
    history["epoch"] += 1


def _save_checkpoint(entry: _CacheEntry, kind: str, live: _Live, history: dict) -> None:
    """Everything ``_restore`` needs to resume after the epochs in ``history``."""
    entry.save(kind, {
        "model": live.model.state_dict(), "optimiser": live.optimiser.state_dict(),
        "shuffle_rng": live.shuffle.get_state(), "cpu_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(live.device) if live.device.type == "cuda" else None,
        "state": history})


@contextmanager
def _progress(config: TrainConfig, history: dict, steps_per_epoch: int, entry: _CacheEntry | None, wanted: bool):
    """A ``RunProgress`` for the run (a tqdm bar or one line per epoch, ``gdcut.progress``), or None."""
    if not wanted:
        yield None
        return
    report = RunProgress(config.describe(), config.epochs * steps_per_epoch, history["epoch"] * steps_per_epoch,
                         config.batch_size, entry.directory if entry is not None else None)
    with closing(report):
        yield report


def _optimiser_step_count(optimiser: torch.optim.Optimizer, steps_run: int) -> int:
    # The step count in RMSProp's and Adam's state, which includes the steps of the run the state came from
    # (v2 App. C; Adam's bias correction reads it); SGD without momentum keeps no state, so the steps run.
    counts = [int(per_parameter["step"]) for per_parameter in optimiser.state.values() if "step" in per_parameter]
    return max(counts) if counts else steps_run


def _plain(value, where: str):
    # What torch.load(weights_only=True) reads back: dicts, lists, str, int, float, bool, None and tensors.
    # Subclasses (torch.__version__ is a str subclass) and numpy scalars become their plain type.
    if value is None or isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        return {key: _plain(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    for plain_type in (bool, str, int):
        if isinstance(value, plain_type):
            return plain_type(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{where} is a {type(value).__name__}, which the training cache cannot store as data")


def training_step(model, optimiser: torch.optim.Optimizer, params: list, x: torch.Tensor,
                  y: torch.Tensor, lambda1: float, autocast_dtype: torch.dtype | None = None) -> torch.Tensor:
    """One step of the paper's loop: cross entropy, backward, + lambda1*sign(p), optimiser step.

    ``model`` is the network or anything that calls it (``precision.CompiledOrEager``). Returns the (detached, float32) cross entropy without synchronising the device.
    """
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(x.device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
        loss = nn.functional.cross_entropy(model(x), y)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    add_l1_subgradient_(params, lambda1)
    optimiser.step()
    return loss.detach().float()


@torch.no_grad()
def accuracy(model: nn.Module, data: DeviceData, batch_size: int = 1024) -> float:
    """Test-set accuracy in eval mode (information for the ledger, not a claim)."""
    validation.positive_int("batch_size", batch_size)
    was_training = model.training
    model.eval()
    n = len(data.test_labels)
    correct = 0
    for start in range(0, n, batch_size):
        index = torch.arange(start, min(start + batch_size, n), device=data.device)
        x, y = data.batch(index, train=False)
        correct += int((model(x).argmax(1) == y).sum())
    model.train(was_training)
    return correct / n
