"""Scale presets for the deep-network claims: the paper's settings and a CPU-sized miniature.

``paper`` is what the paper states (v1 App. A-B, v2 App. A.1, §4, App. C), with
the unstated choices (C5/C6 optimiser, learning rate, epochs, batch size, seeds)
filled in and marked. ``smoke`` keeps every mechanism (same cfg networks, same
torchvision VGG16 layer structure with its 1000-way head, same alpha, lambda1,
optimisers and threshold) and shrinks data, width and epochs so the whole set
runs in minutes on two CPU cores. ``cpu`` is the scale whose runs meet the analysis's premises on a CPU
(its rulings are shown; none counts, since a miniature is outside L18-L20's setting and C5/C6 need
CIFAR-10 among their data sets): the same miniature networks, but every L18-L20 run is as long as the closed-form
horizon of its own initial weights needs (``l1_run_epochs``), RMSProp and Adam
run at the paper's batch of 512, and C5/C6 sweep two optimisers × two learning
rates (``ConvergenceScale.sweep``); it is what ``auto`` picks without CUDA. ``tiny`` runs a handful of steps with the same code, to
test the machinery in seconds: nothing trains, so every deep-net decision must
come out inconclusive. ``why`` explains each choice; the claim tests copy it
into the ledger.

C5/C6 use five paired seeds at every scale: the decision rules
(``gdcut.rules``) need at least five pairs per cell.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

from gdcut import validation
from gdcut.ledger.registry import claim

#: ``--gdcut-scale``: a preset of the tables below, or ``auto`` (``resolve_scale``).
SCALES = ("auto", "tiny", "smoke", "cpu", "paper")


@dataclass(frozen=True)
class RunSettings:
    """The deep-net settings of a pytest session (``gdcut.ledger.plugin.settings_from_config``)."""
    scale: str
    device: object  # torch.device
    cifar_dir: Path | None
    allow_download: bool
    cache_dir: Path
    precision: str  # --gdcut-precision
    forward_dtype: str  # the TrainConfig.forward_dtype it selects
    fashion_mnist_dir: Path


def resolve_scale(requested: str, cuda_available: bool) -> str:
    """``auto`` means the paper's scale on CUDA and the ``cpu`` scale (the most a CPU can run) elsewhere."""
    validation.one_of("requested", requested, SCALES)
    validation.boolean("cuda_available", cuda_available)
    if requested == "auto":
        return "paper" if cuda_available else "cpu"
    return requested


@dataclass(frozen=True)
class ConvergenceScale:
    """C5/C6 (v1 Fig. 2, v2 Fig. 2): cfg VGGs, ReLU vs GELU, without and with batch norm."""

    depths: tuple[str, ...]
    seeds: tuple[int, ...]
    optimiser: str
    lr: float
    batch_size: int
    epochs_without_bn: int
    epochs_with_bn: int
    train_size: int | None
    test_size: int | None
    why: dict = field(default_factory=dict)
    #: The (optimiser, lr) settings of the sweep over what Fig. 2 leaves open; () means the one setting above.
    sweep: tuple[tuple[str, float], ...] = ()

    @property
    def settings(self) -> tuple[tuple[str, float], ...]:
        """Every (optimiser, lr) this scale runs, the sweep or else its one setting."""
        return self.sweep or ((self.optimiser, self.lr),)


@dataclass(frozen=True)
class L1Scale:
    """L18 (v1 §3, App. B), L19/L20 (v2 §4, Fig. 3, Table 2, App. C): VGG16 with an L1 penalty."""

    width_divisor: int
    epochs_v1: int | None  # None: from the horizon (``horizon_runs``)
    epochs_v2: int | None
    batch_size: int
    train_size: int | None
    test_size: int | None
    why: dict = field(default_factory=dict)
    #: RMSProp's and Adam's batch where it differs from ``batch_size`` (the cpu scale: the paper's 512).
    adaptive_batch_size: int | None = None
    #: Run lengths from the closed-form horizon of each run's own initial weights (``l1_run_epochs``).
    horizon_runs: bool = False
    #: The most optimiser steps a horizon-length run at ``batch_size`` may take; a run that needs more is not
    #: trained (``run_step_cap``).
    step_cap: int | None = None
    #: The same at ``adaptive_batch_size``, where a step costs more (None: ``step_cap``).
    adaptive_step_cap: int | None = None
    #: The fewest optimiser steps of a horizon-length run, so that the loss has time to act.
    min_steps: int = 1


# What the paper states for the L1 experiments, identical at both scales.
# v1 §3, App. B; v2 App. C, its λ1 loop order (λ1 = 2 first).
V1_L1 = {"optimiser": "sgd", "lr": claim("L18").paper_value("α"),
         "lambdas": (claim("L18").paper_value("large λ1"), claim("L18").paper_value("small λ1")), "shuffle": True}
V2_L1 = {"optimisers": ("sgd", "rmsprop", "adam"), "lr": claim("L19").paper_value("α"),
         "lambdas": (float(claim("L19").paper_value("large λ1")), claim("L19").paper_value("small λ1")), "shuffle": False}

SEEDS = (0, 1, 2, 3, 4)

CONVERGENCE = {
    "paper": ConvergenceScale(
        depths=("VGG11", "VGG13", "VGG19"), seeds=SEEDS, optimiser="adam", lr=3e-4, batch_size=128,
        epochs_without_bn=30, epochs_with_bn=30, train_size=None, test_size=None,
        why={"optimiser, lr, batch, epochs": "not stated in the paper (chosen; the same Adam lr as the smoke scale)",
             "depths": "VGG11/13/19 of v1 Fig. 2 (v2 shows 11 and 19)"}),
    "smoke": ConvergenceScale(
        depths=("VGG11", "VGG19"), seeds=SEEDS, optimiser="adam", lr=3e-4, batch_size=32,
        epochs_without_bn=16, epochs_with_bn=3, train_size=2048, test_size=1000,
        why={"depths": "VGG11 and VGG19, the two depths of v2 Fig. 2 (VGG13 only at paper scale, for time)",
             "lr": ("Adam lr 3e-4: with lr 1e-3, a VGG19 ReLU run without BN stayed at chance loss for all of "
                    "1024 steps (seed 1), so it could not be compared; at 3e-4 it left chance (chosen on "
                    "trainability of the ReLU run alone, before any ReLU/GELU comparison)"),
             "data": "first 2048 training images, batch 32: 64 steps per epoch, many steps per CPU second",
             "epochs_without_bn": ("16 epochs = 1024 steps: in probes (seeds 1, 2) VGG19 ReLU without BN left "
                                   "the chance plateau after ~400 and ~600 steps, so 1024 leaves room to train"),
             "epochs_with_bn": ("3 epochs = 192 steps: with BN both activations leave chance within tens of steps "
                                "and are far below it by step 192")}),
    "cpu": ConvergenceScale(
        depths=("VGG11", "VGG19"), seeds=SEEDS, optimiser="adam", lr=3e-4, batch_size=32,
        epochs_without_bn=16, epochs_with_bn=6, train_size=2048, test_size=1000,
        sweep=(("momentum", 0.01), ("momentum", 0.03), ("adam", 3e-4), ("adam", 1e-3)),
        why={"sweep": ("the paper does not state Fig. 2's optimiser or learning rate: SGD with momentum 0.9 at "
                       "lr 0.01 and 0.03, Adam at lr 3e-4 and 1e-3, five paired seeds each, fixed before the run"),
             "data, steps": ("2048 images at batch 32, as the smoke scale: 1024 steps without BN, 384 with BN "
                             "(twice the smoke scale's 192, so that the first half of each run, the second training "
                             "length, is no shorter than the smoke scale's run)"),
             "initialisation": ("PyTorch's layer defaults (kaiming-uniform, a = sqrt 5), as kuangliu's code: not a "
                                "critical initialisation, at which smooth/ReLU speed differences are reported to "
                                "vanish")}),
    "tiny": ConvergenceScale(
        depths=("VGG11", "VGG19"), seeds=SEEDS, optimiser="adam", lr=3e-4, batch_size=8,
        epochs_without_bn=1, epochs_with_bn=1, train_size=32, test_size=16,
        why={"all": "4 steps per run: a test of the machinery, too short to train (every decision inconclusive)"}),
}

L1 = {
    "paper": L1Scale(width_divisor=1, epochs_v1=claim("L18").paper_value("epochs"),
                     epochs_v2=claim("L19").paper_value("epochs"), batch_size=claim("L19").paper_value("batch size"),
                     train_size=None,
                     test_size=None, why={"all": "as stated in v1 App. B and v2 App. C"}),
    "smoke": L1Scale(
        width_divisor=16, epochs_v1=15, epochs_v2=15, batch_size=16, train_size=2048, test_size=500,
        why={"width": ("VGG16 with every layer 16x narrower (torchvision's VGG class, same layer order, adaptive "
                       "7x7 pool, dropout, 1000-way head): 0.78M instead of 138M parameters; no pretrained "
                       "weights exist for it, so torchvision's random init (linear weights N(0, 0.01))"),
             "steps": ("SGD moves a penalty-dominated weight by alpha*lambda1 per step (6e-6 at alpha=0.003, "
                       "lambda1=0.002), so reaching the threshold band takes |w0|/6e-6 steps: batch 16 on 2048 "
                       "images for 15 epochs gives 1920 steps, enough for |w0| up to 0.012 (the paper: 19600 "
                       "steps); alpha, lambda1 and the threshold stay the paper's"),
             "batch": ("16 instead of 512: the penalty's pull per step does not depend on the batch (v2 B.3.1), "
                       "so the smallest batch buys the most steps per CPU second"),
             "prediction": "the penalty-only prediction uses this run's own steps and initial weights"}),
    "cpu": L1Scale(
        width_divisor=16, epochs_v1=None, epochs_v2=None, batch_size=16, train_size=8192, test_size=500,
        adaptive_batch_size=claim("L19").paper_value("batch size"), horizon_runs=True, step_cap=250_000,
        adaptive_step_cap=60_000, min_steps=320,
        why={"width": "VGG16 narrowed 16x as the smoke scale (0.78M parameters), torchvision's random init",
             "steps": ("each run is as long as the closed-form horizon of its own initial weights needs (99% of "
                       "sampled weights at 0 under the penalty alone, the same torch.optim rule; for SGD's "
                       "smaller λ1 also the crossing of the two L1 norms), then a settling window of at least "
                       "3 epochs and a fifth of that horizon; at least 320 steps (20 epochs at batch 512); where a "
                       "pair's decided statistic has not settled, the runs whose own doubling moved it run on, twice "
                       "as long, from where they ended (an App. C λ1 = 2 run that runs on gives its successor a new "
                       "start); no run beyond 250,000 steps at batch 16 or 60,000 at batch 512 (a run that needs "
                       "more is not trained: its cell is inconclusive)"),
             "cap": ("the caps bound what a run costs, not what it finds: an SGD step at batch 16 took 0.0036 s "
                     "and a batch-512 step 0.12-0.16 s on one core (2026-12-03/04), so 250,000 SGD steps are "
                     "about 15 min and 60,000 RMSProp or Adam steps 2-2.7 h"),
             "batch": ("RMSProp and Adam at the paper's 512 (their step divides by the root of a second moment "
                       "that holds the minibatch noise); SGD at 16, since the penalty's pull per step does not "
                       "depend on the batch (v2 B.3.1) and a small batch buys the most steps per CPU second"),
             "data": "the first 8192 training images: 16 steps per epoch at batch 512, 512 at batch 16"}),
    "tiny": L1Scale(
        width_divisor=32, epochs_v1=1, epochs_v2=1, batch_size=16, train_size=64, test_size=32,
        why={"all": "4 steps per run: a test of the machinery, far short of the penalty's horizon "
                    "(every decision inconclusive)"}),
}


def convergence(scale: str) -> ConvergenceScale:
    validation.one_of("scale", scale, CONVERGENCE)
    return CONVERGENCE[scale]


def l1(scale: str) -> L1Scale:
    validation.one_of("scale", scale, L1)
    return L1[scale]


def convergence_config(scale: str, depth: str, activation: str, batch_norm: bool, seed: int,
                       forward_dtype: str = "float32", setting: tuple[str, float] | None = None):
    """The C5/C6 run for one depth, activation, batch-norm switch and seed at ``scale``.

    ``setting`` is one (optimiser, lr) of the scale's ``settings`` (None: the first).
    ``forward_dtype`` is what ``--gdcut-precision`` selects (``gdcut.precision``).
    """
    from gdcut.train import TrainConfig

    preset = convergence(scale)
    validation.one_of("depth", depth, preset.depths)
    if setting is None:
        setting = preset.settings[0]
    validation.one_of("setting", tuple(setting), preset.settings)
    optimiser, lr = setting
    return TrainConfig(model=depth, optimiser=optimiser, lr=lr, batch_size=preset.batch_size,
                       epochs=preset.epochs_with_bn if batch_norm else preset.epochs_without_bn, seed=seed,
                       activation=activation, batch_norm=batch_norm, forward_dtype=forward_dtype)


#: The two ways to run v2's λ1 pair: App. C's procedure, and each run on its own.
V2_PROCEDURES = ("app-c", "fresh")


def l1_config(scale: str, version: str, optimiser: str, lambda1: float, pretrained: bool = True,
              procedure: str = "fresh", forward_dtype: str = "float32"):
    """The VGG16 L1 run of v1 (L18) or v2 (L19/L20) for one optimiser and lambda1 at ``scale``.

    Seed 42 as the paper's code sets it. ``procedure="app-c"`` is v2 App. C as
    written: one optimiser per kind, reused across its λ1 loop (λ1 = 2 first), so
    the λ1 = 0.002 run starts from the optimiser state the λ1 = 2 run left;
    ``"fresh"`` gives every run a new optimiser. SGD with torch's defaults keeps
    no state, so for SGD both procedures are the same run. ``forward_dtype`` is
    what ``--gdcut-precision`` selects (``gdcut.precision``).
    """
    from gdcut.train import TrainConfig

    validation.one_of("version", version, ["v1", "v2"])
    preset = l1(scale)
    stated = V1_L1 if version == "v1" else V2_L1
    validation.one_of("optimiser", optimiser, (stated["optimiser"],) if version == "v1" else stated["optimisers"])
    validation.one_of("lambda1", lambda1, stated["lambdas"])
    validation.one_of("procedure", procedure, V2_PROCEDURES)
    first = stated["lambdas"][0] if version == "v2" else None  # App. C's loop order: [2, 0.002]
    carried = (procedure == "app-c" and version == "v2" and optimiser != "sgd" and lambda1 != first)
    batch = preset.adaptive_batch_size if optimiser != "sgd" and preset.adaptive_batch_size else preset.batch_size
    config = TrainConfig(model="VGG16", width_divisor=preset.width_divisor, pretrained=pretrained,
                         optimiser=optimiser, lr=stated["lr"], lambda1=lambda1, batch_size=batch,
                         epochs=(preset.epochs_v1 if version == "v1" else preset.epochs_v2) or 1,
                         seed=claim("L18" if version == "v1" else "L19").paper_value("seed"),
                         shuffle=stated["shuffle"], forward_dtype=forward_dtype,
                         optimiser_state_from=(l1_config(scale, version, optimiser, first, pretrained,
                                                         forward_dtype=forward_dtype) if carried else None))
    if not preset.horizon_runs:
        return config
    # SGD's smaller λ1 must also pass the closed-form crossing of its L1 norm with the larger's (gdcut.deepnet)
    partner = max(stated["lambdas"]) if optimiser == "sgd" and lambda1 == min(stated["lambdas"]) else None
    return dataclasses.replace(config, epochs=l1_run_epochs(config, preset, partner))


def hands_on(config) -> bool:
    """Whether v2 App. C hands this run's optimiser state on: the first (λ1 = 2) RMSProp or Adam run of its loop.
    The run keeps its state for the successor, and the length the successor started after."""
    return config.optimiser != "sgd" and config.lambda1 == V2_L1["lambdas"][0]


def may_run_on(scale: str) -> bool:
    """Whether the L1 runs of ``scale`` may be lengthened to settle (``gdcut.deepnet.settled``), so they keep their
    final states: the horizon-length runs. A λ1 = 2 run that App. C hands on may too; its successor then starts
    again from the longer run's state (``successor_config``)."""
    return l1(scale).horizon_runs


def successor_config(scale: str, config, source):
    """v2 App. C's run ``config`` started from the optimiser state of the run ``source`` instead: as long as its
    horizon after that state needs (``l1_run_epochs``; raises ``HorizonBeyondCap`` beyond the scale's cap), or as
    long as ``config`` where that ran on past its own horizon: it had not settled before that length, so a new
    start at the horizon would only run on to the same length again."""
    if getattr(config, "optimiser_state_from", None) is None or not hands_on(source):
        raise ValueError("config must be an App. C successor and source the λ1 = 2 run of its optimiser, "
                         f"got {getattr(config, 'optimiser_state_from', None)!r} and {source!r}")
    preset = l1(scale)
    rebased = dataclasses.replace(config, optimiser_state_from=source)
    horizon = l1_run_epochs(rebased, preset)
    ran_on = config.epochs > l1_run_epochs(config, preset)
    return dataclasses.replace(rebased, epochs=max(horizon, config.epochs) if ran_on else horizon)


# --------------------------------------------------------------------------- horizon-length runs (cpu scale)
#: Share of sampled initial weights that must have reached 0 under the penalty alone: the suite's choice.
HORIZON_QUANTILE = 0.99
#: Epochs at the end of an L1 run over which its L1 norm and share must have settled, and are averaged: at least
#: this many, and at least ``SETTLE_FRACTION`` of the horizon (``settle_epochs``).
SETTLE_EPOCHS = 3
SETTLE_FRACTION = 0.2


#: Time constants of its second moment that App. C's λ1 = 2 run must run before it hands its optimiser state on: the
#: moment is then within e^-5 (under 1%) of its level, as after App. C's 200 epochs, so the successor starts from
#: the state App. C's did (the suite's choice).
SATURATION_TIME_CONSTANTS = 5


@functools.cache
def saturation_steps(optimiser: str) -> int:
    """Steps for the second moment of torch's ``optimiser`` (RMSProp's alpha, Adam's second beta, read from torch)
    to settle to within e^-``SATURATION_TIME_CONSTANTS`` of its level; 0 for SGD, which keeps no state."""
    from gdcut import optimisers

    validation.one_of("optimiser", optimiser, V2_L1["optimisers"])
    if optimiser == "sgd":
        return 0
    decay = optimisers.default_setting("adam", "betas")[1] if optimiser == "adam" else \
        optimisers.default_setting("rmsprop", "alpha")
    return math.ceil(SATURATION_TIME_CONSTANTS / (1 - decay))


class HorizonBeyondCap(ValueError):
    """A run would need more optimiser steps than its scale's cap allows; the message names both."""


def run_step_cap(preset: L1Scale, config) -> int | None:
    """The most steps a horizon-length run of ``config`` may take at ``preset``: ``adaptive_step_cap`` at the
    adaptive batch (RMSProp, Adam at the paper's 512 on the cpu scale), else ``step_cap``."""
    if preset.adaptive_step_cap is not None and config.batch_size == preset.adaptive_batch_size:
        return preset.adaptive_step_cap
    return preset.step_cap


def steps_per_epoch(config, train_size: int) -> int:
    validation.positive_int("train_size", train_size)
    return math.ceil(train_size / config.batch_size)


def settle_epochs(horizon: int, per_epoch: int) -> int:
    """The epochs of the settling window after ``horizon`` steps at ``per_epoch`` steps an epoch."""
    validation.non_negative_int("horizon", horizon)
    validation.positive_int("per_epoch", per_epoch)
    return max(SETTLE_EPOCHS, math.ceil(SETTLE_FRACTION * horizon / per_epoch))


@functools.cache
def initial_weight_sample(model: str, width_divisor: int, pretrained: bool, seed: int):
    """The sample of initial weights ``gdcut.train`` keeps for a run with these settings (the same draw)."""
    import torch

    from gdcut import models, train

    torch.manual_seed(seed)
    network, _ = models.build(model, "relu", False, width_divisor, pretrained)
    return train.sample_weights(network, train.WEIGHT_SAMPLE, torch.Generator().manual_seed(seed))


@functools.cache
def penalty_horizon(config, before_steps: int | None, limit: int) -> int:
    """Steps until ``HORIZON_QUANTILE`` of the run's sampled initial weights reach 0 under the penalty alone.

    The torch.optim rule of ``config`` on λ1‖w‖₁ (``closed_forms.penalty_only_run``,
    what ``gdcut.deepnet.predict`` runs), after ``before_steps`` at the λ1 of the run
    it takes its optimiser state from (v2 App. C); simulated over doubling lengths
    until the quantile arrives, so a short horizon costs a short simulation.
    ``limit + 1`` when it does not within ``limit`` steps.
    """
    import numpy as np

    from gdcut import closed_forms

    sample = initial_weight_sample(config.model, config.width_divisor, config.pretrained, config.seed)
    if config.optimiser == "sgd":  # v2 Prop. B.2: n_k = |w0| / (αλ1); 1% for float32's rounding of each step
        closed = np.ceil(1.01 * sample.abs().double().numpy() / (config.lr * config.lambda1))
        horizon = int(np.quantile(closed, HORIZON_QUANTILE, method="higher"))
        return horizon if horizon <= limit else limit + 1
    source = config.optimiser_state_from
    before = None if source is None else (source.lambda1, before_steps)
    length = 256
    while True:
        length = min(length, limit)
        _, arrival = closed_forms.penalty_only_run(sample, config.optimiser, config.lr, config.lambda1, length,
                                                   before)
        horizon = int(np.quantile(arrival.numpy(), HORIZON_QUANTILE, method="higher"))
        if horizon <= length or length == limit:
            return horizon if horizon <= limit else limit + 1
        length *= 4


def sgd_crossing_step(sample, lr: float, small: float, large: float, limit: int = 10**7) -> int:
    """First step at which the penalty-only L1 norm of SGD at λ1 = ``small`` falls below that at ``large``.

    The closed form of v2 Prop. B.1-B.2 from the same initial weights ``sample``;
    bisection, since the small run's norm only falls while the large run's settles
    in its band. ``limit`` when it never does within ``limit``.
    """
    import numpy as np

    from gdcut import closed_forms

    sample = np.asarray(sample, dtype=np.float64)

    def norm(lam: float, steps: int) -> float:
        return float(np.abs(closed_forms.ndgm_iterate(sample, lr, lam, steps)).mean())

    low, high = 0, limit
    if norm(small, high) >= norm(large, high):
        return limit
    while high - low > 1:
        middle = (low + high) // 2
        if norm(small, middle) < norm(large, middle):
            high = middle
        else:
            low = middle
    return high


def l1_run_epochs(config, preset: L1Scale, partner_lambda1: float | None = None) -> int:
    """Epochs for an L1 run to pass its horizon (and, given ``partner_lambda1``, the SGD crossing), then settle.

    The horizon comes from the run's own initial weights and optimiser state
    (``penalty_horizon``); the settling window is ``settle_epochs`` after it, and
    the run has at least ``preset.min_steps``; a run App. C hands on runs until its second moment has settled
    (``saturation_steps``), since its successor starts from that state. Raises ``HorizonBeyondCap`` when that
    takes more than the run's cap (``run_step_cap``): such a run is not trained, and its
    cell is inconclusive with that reason.
    """
    if not isinstance(preset, L1Scale) or preset.step_cap is None or preset.train_size is None:
        raise ValueError("preset must be an L1Scale with a step_cap and a train_size for horizon-length runs")
    cap = run_step_cap(preset, config)
    per_epoch = steps_per_epoch(config, preset.train_size)
    source = config.optimiser_state_from
    before = None if source is None else source.epochs * per_epoch
    needed = penalty_horizon(config, before, cap)
    if partner_lambda1 is not None:
        sample = initial_weight_sample(config.model, config.width_divisor, config.pretrained, config.seed)
        needed = max(needed, sgd_crossing_step(sample.double().numpy(), config.lr, config.lambda1, partner_lambda1,
                                               cap + 1))
    if needed > cap:
        raise HorizonBeyondCap(f"step_cap: {config.describe()} needs more than {cap:,} steps to pass "
                               f"its horizon (99% of sampled weights at 0 under the penalty alone), beyond the "
                               f"scale's cap of {cap:,}")
    floor = max(preset.min_steps, saturation_steps(config.optimiser) if hands_on(config) else 0)
    epochs = max(math.ceil(floor / per_epoch), math.ceil(needed / per_epoch) + settle_epochs(needed, per_epoch))
    if epochs * per_epoch > cap:
        raise HorizonBeyondCap(f"step_cap: {config.describe()} needs {epochs * per_epoch:,} steps (horizon "
                               f"{needed:,} and its settling window), beyond the scale's cap of {cap:,}")
    return epochs
