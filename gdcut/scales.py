"""Scale presets for the deep-network claims: the paper's settings and a CPU-sized miniature.

``paper`` is what the paper states (v1 App. A-B, v2 App. A.1, §4, App. C), with
the unstated choices (C5/C6 optimiser, learning rate, epochs, batch size, seeds)
filled in and marked. ``smoke`` keeps every mechanism (same cfg networks, same
torchvision VGG16 layer structure with its 1000-way head, same alpha, lambda1,
optimisers and threshold) and shrinks data, width and epochs so the whole set
runs in minutes on two CPU cores. ``tiny`` runs a handful of steps with the same code, to
test the machinery in seconds: nothing trains, so every deep-net decision must
come out inconclusive. ``why`` explains each choice; the claim tests copy it
into the ledger.

C5/C6 use five paired seeds at every scale: the decision rules
(``gdcut.rules``) need at least five pairs per cell.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gdcut import validation
from gdcut.ledger.registry import claim

#: ``--gdcut-scale``: a preset of the tables below, or ``auto`` (``resolve_scale``).
SCALES = ("auto", "tiny", "smoke", "paper")


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
    """``auto`` means the paper's scale on CUDA and the smoke scale elsewhere."""
    validation.one_of("requested", requested, SCALES)
    validation.boolean("cuda_available", cuda_available)
    if requested == "auto":
        return "paper" if cuda_available else "smoke"
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


@dataclass(frozen=True)
class L1Scale:
    """L18 (v1 §3, App. B), L19/L20 (v2 §4, Fig. 3, Table 2, App. C): VGG16 with an L1 penalty."""

    width_divisor: int
    epochs_v1: int
    epochs_v2: int
    batch_size: int
    train_size: int | None
    test_size: int | None
    why: dict = field(default_factory=dict)


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
                       forward_dtype: str = "float32"):
    """The C5/C6 run for one depth, activation, batch-norm switch and seed at ``scale``.

    ``forward_dtype`` is what ``--gdcut-precision`` selects (``gdcut.precision``).
    """
    from gdcut.train import TrainConfig

    preset = convergence(scale)
    validation.one_of("depth", depth, preset.depths)
    return TrainConfig(model=depth, optimiser=preset.optimiser, lr=preset.lr, batch_size=preset.batch_size,
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
    return TrainConfig(model="VGG16", width_divisor=preset.width_divisor, pretrained=pretrained, optimiser=optimiser,
                       lr=stated["lr"], lambda1=lambda1, batch_size=preset.batch_size,
                       epochs=preset.epochs_v1 if version == "v1" else preset.epochs_v2,
                       seed=claim("L18" if version == "v1" else "L19").paper_value("seed"),
                       shuffle=stated["shuffle"], forward_dtype=forward_dtype,
                       optimiser_state_from=(l1_config(scale, version, optimiser, first, pretrained,
                                                       forward_dtype=forward_dtype) if carried else None))
