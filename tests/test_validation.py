"""Input validation of gdcut's public API: bad arguments fail with an error that names them.

``TABLE`` lists every public entry point of ``gdcut/*.py`` and of ``gdcut/ledger``
(problem builders, runners, configs, data loading, command lines; the closed
forms they feed are ``INTERNAL`` and take no checks): a valid baseline call (small inputs) and, per
argument, the bad values it must reject.  A bad call must raise ``ValueError``
(or the exception a row documents) whose message names the argument.
``EXEMPT`` holds the public names that take no checks, each with the reason;
rows list argument-level exemptions in ``exempt`` (for instance the losses,
which sit inside optimisation loops, check shapes and scalars on every call
but not the finiteness of every iterate).

Wrong implementations caught here: a function that silently accepts a NaN
step or a negative count, one that lets numpy/torch fail later with a message
that does not say which argument was wrong (a broadcast error, a KeyError),
and a public function added without a row (``test_table_covers_...``).
"""
from __future__ import annotations

import inspect
import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pytest
import torch
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import nn

from gdcut import (analytic_rules, convex, data, deepnet, distribute, geometry, lasso, losses, models, mutation,
                   optimisers, precision, problems, program, progress, recursions, rules, runs, scales, search, stacked,
                   train, validation)
from gdcut.ledger import diff, merge, registry, render

MODULES = (analytic_rules, losses, validation, problems, recursions, optimisers, runs, lasso, convex, geometry,
           models, data, train, scales, mutation, rules, deepnet, precision, progress, stacked, program, distribute,
           search)
A_FILE = Path(__file__)  # a path that exists but is a file, not a directory
MISSING_PATH = A_FILE / "no-such-directory"  # below a file: nothing can ever create it
BAD_PATHS = st.sampled_from([MISSING_PATH, A_FILE, str(MISSING_PATH)])
FASHION_TEST_LABELS = data.FASHION_MNIST_DIR / data.FASHION_MNIST_FILES["test"][1]
fashion_present = FASHION_TEST_LABELS.is_file()


# --------------------------------------------------------------------------- bad values
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, np.float64("nan"), np.float32("-inf")])
NOT_NUMBERS = st.one_of(st.sampled_from(["0.1", None, True, False]), st.text(max_size=3))
NEGATIVE = st.one_of(st.floats(max_value=-sys.float_info.min, allow_infinity=False), st.integers(max_value=-1),
                     st.fractions(max_value=Fraction(-1, 10**6)))
ZERO = st.sampled_from([0, 0.0, -0.0, Fraction(0), np.float64(0)])
Kind = SearchStrategy | Callable[[dict], SearchStrategy]
Kinds = tuple[Kind, ...]


# Each function below returns the *kinds* of bad value an argument must reject, one strategy per
# kind: the per-argument test draws a value of every kind in each example, so a few examples
# cover every kind (one_of would leave some kinds undrawn with the ci profile's few examples).
def step_sizes() -> Kinds:
    """What a step size, a scale or any argument that must be > 0 rejects."""
    return ZERO, NEGATIVE, NON_FINITE, NOT_NUMBERS


def penalties() -> Kinds:
    """What a penalty weight or a tolerance (>= 0) rejects."""
    return NEGATIVE, NON_FINITE, NOT_NUMBERS


def reals() -> Kinds:
    """What an argument that may be any finite real number rejects."""
    return NON_FINITE, NOT_NUMBERS


def counts(minimum: int = 1, none_ok: bool = False) -> Kinds:
    """What an integer count >= ``minimum`` rejects: too small, fractional or float, a bool, text."""
    bad = (st.integers(max_value=minimum - 1), st.floats(), st.booleans(), st.text(max_size=2),
           st.fractions().filter(lambda q: q.denominator > 1))
    return bad if none_ok else (*bad, st.none())


def names(allowed) -> Kinds:
    """Names that are not among ``allowed``, and non-strings."""
    allowed = list(allowed)
    return st.text(max_size=8).filter(lambda s: s not in allowed), st.one_of(st.integers(), st.none())


def flags() -> Kinds:
    """What a True/False switch rejects: 0/1, text, None."""
    return st.one_of(st.integers(0, 1), st.just(1.0)), st.one_of(st.text(max_size=3), st.none())


def _copy(value):
    return value.clone() if isinstance(value, torch.Tensor) else np.array(value, dtype=np.float64)


def with_entry(argument: str, *entry_kinds: SearchStrategy) -> Kinds:
    """The baseline array/tensor of ``argument`` with one entry replaced (NaN/inf, or each of ``entry_kinds``)."""
    return tuple(_with_entry(argument, entries) for entries in entry_kinds or (NON_FINITE,))


def _with_entry(argument: str, entries: SearchStrategy):
    def values(arguments: dict) -> SearchStrategy:
        base = arguments[argument]
        size = int(np.prod(base.shape))

        def replace(drawn):
            index, entry = drawn
            copy = _copy(base)
            copy.reshape(-1)[index] = float(entry)
            return copy
        return st.tuples(st.integers(0, size - 1), entries).map(replace)
    return values


def wrong_ndim(argument: str, ways=("add", "drop")):
    """The baseline array/tensor of ``argument`` with one axis more (or one fewer)."""
    def values(arguments: dict) -> SearchStrategy:
        base = arguments[argument]
        options = [base[None]] if "add" in ways else []
        if "drop" in ways and base.ndim >= 1:
            options.append(base[0])
        return st.sampled_from(options)
    return values


def resized(argument: str, axis: int = 0):
    """The baseline array/tensor of ``argument`` with another length along ``axis`` (entries repeated)."""
    def values(arguments: dict) -> SearchStrategy:
        base = arguments[argument]
        length = base.shape[axis]

        def resize(new_length):
            index = np.arange(new_length) % length
            if isinstance(base, torch.Tensor):
                return base.index_select(axis, torch.as_tensor(index))
            return np.take(np.asarray(base), index, axis=axis)
        return st.integers(1, length + 3).filter(lambda n: n != length).map(resize)
    return values


def per_run_lists(count: int) -> Kinds:
    """Sequences of step sizes that are not ``count`` positive numbers: wrong length, or one bad entry."""
    good = st.floats(0.01, 1.0)
    wrong_length = st.integers(0, count + 3).filter(lambda n: n != count).flatmap(
        lambda n: st.lists(good, min_size=n, max_size=n))
    one_bad = st.tuples(st.lists(good, min_size=count - 1, max_size=count - 1),
                        st.one_of(ZERO, NEGATIVE, NON_FINITE, st.text(max_size=2))).map(lambda t: [*t[0], t[1]])
    return wrong_length, one_bad


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Bad:
    """Bad values of one argument: one kind, or a tuple of kinds (each a strategy, or a function of the
    baseline arguments that builds one)."""
    argument: str
    values: Kind | Kinds
    raises: tuple[type[BaseException], ...] = (ValueError,)
    mentions: str | None = None  # what the message must name, when not the argument itself (say, an option)

    @property
    def kinds(self) -> Kinds:
        return self.values if isinstance(self.values, tuple) else (self.values,)

    def strategy(self, kind: int, arguments: dict) -> SearchStrategy:
        values = self.kinds[kind]
        return values if isinstance(values, SearchStrategy) else values(arguments)

    @property
    def named(self) -> str:
        return self.mentions or self.argument


@dataclass(frozen=True)
class Row:
    name: str
    function: Callable
    arguments: Callable[[], dict]  # fresh valid keyword arguments
    bad: tuple[Bad, ...]
    no_valid_call: str = ""  # why the baseline call is not made (it would train, download, spawn pytest...)
    exempt: tuple[str, ...] = ()  # argument checks deliberately left out, with the reason
    needs_fashion_mnist: bool = False

    def __repr__(self) -> str:
        return self.name


def tensor(*shape, seed: int = 0, low: float = -1.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return low + (1.0 - low) * torch.rand(shape, generator=generator, dtype=torch.float64)


def array(*shape, seed: int = 0, low: float = -1.0) -> np.ndarray:
    return tensor(*shape, seed=seed, low=low).numpy()


def arrays(argument: str, axes=(0,), ndim_ways=("add", "drop")) -> tuple[Bad, ...]:
    """The usual bad arrays: a NaN/inf entry, a wrong number of axes, a wrong length along ``axes``."""
    return (Bad(argument, with_entry(argument)), Bad(argument, wrong_ndim(argument, ndim_ways)),
            *(Bad(argument, resized(argument, axis)) for axis in axes))


HOT_LOOP = ("finiteness of beta, Z, y: these losses run inside optimisation loops; their data come from the "
            "validated problem builders, so only shapes and scalar hyperparameters are checked per call")

# losses ---------------------------------------------------------------------
def loss_data():
    return {"beta": tensor(2, 3), "Z": tensor(4, 3, seed=1), "y": tensor(4, seed=2)}


def beta_shape_errors() -> tuple[Bad, ...]:
    return (Bad("beta", st.just(torch.tensor(0.5, dtype=torch.float64))), Bad("beta", resized("beta", -1)))


def data_shape_errors(matrix: str) -> tuple[Bad, ...]:
    return (*beta_shape_errors(), Bad(matrix, wrong_ndim(matrix)), Bad(matrix, resized(matrix, 0)),
            Bad(matrix, resized(matrix, 1)), Bad("y", wrong_ndim("y")), Bad("y", resized("y")))


LOSS_ROWS = [
    Row("losses.l1_penalty", losses.l1_penalty, lambda: {"beta": tensor(2, 3), "lambda1": 0.1},
        (Bad("lambda1", (*penalties(), st.just(torch.tensor([[0.1], [-0.1]])), st.just(torch.tensor([0.1, 0.1])))),
         Bad("beta", st.just(torch.tensor(0.5)))), exempt=(HOT_LOOP,)),
    Row("losses.penalties_by_row", losses.penalties_by_row, lambda: {"beta0": tensor(2, 3), "lambdas": (0.1, 1.0)},
        (Bad("beta0", with_entry("beta0")), Bad("beta0", wrong_ndim("beta0")),
         Bad("lambdas", st.sampled_from([(0.1, -1.0), (math.nan,), ("0.1",)])))),
    Row("losses.relu_regression_loss", losses.relu_regression_loss,
        lambda: {**loss_data(), "lambda1": 0.1, "lambda2": 0.01},
        (Bad("lambda1", penalties()), Bad("lambda2", penalties()), *data_shape_errors("Z")), exempt=(HOT_LOOP,)),
    Row("losses.lasso_loss", losses.lasso_loss,
        lambda: {"beta": tensor(2, 3), "W": tensor(4, 3, seed=1), "y": tensor(4, seed=2), "lambda1": 0.1},
        (Bad("lambda1", penalties()), *data_shape_errors("W")), exempt=(HOT_LOOP,)),
    Row("losses.huber_loss", losses.huber_loss, lambda: {**loss_data(), "delta": 1.0},
        (Bad("delta", step_sizes()), *data_shape_errors("Z")), exempt=(HOT_LOOP,)),
]

# validation (the helpers themselves) ---------------------------------------
VALIDATION_ROWS = [
    Row("validation.finite_scalar", validation.finite_scalar, lambda: {"name": "x", "value": 1.0},
        (Bad("value", reals(), mentions="x"),)),
    Row("validation.positive", validation.positive, lambda: {"name": "x", "value": 1.0},
        (Bad("value", step_sizes(), mentions="x"),)),
    Row("validation.non_negative", validation.non_negative, lambda: {"name": "x", "value": 0.0},
        (Bad("value", penalties(), mentions="x"),)),
    Row("validation.positive_int", validation.positive_int, lambda: {"name": "x", "value": 1},
        (Bad("value", counts(1), mentions="x"),)),
    Row("validation.non_negative_int", validation.non_negative_int, lambda: {"name": "x", "value": 0},
        (Bad("value", counts(0), mentions="x"),)),
    Row("validation.one_of", validation.one_of, lambda: {"name": "x", "value": "a", "allowed": ["a", "b"]},
        (Bad("value", names(["a", "b"]), mentions="x"),)),
    Row("validation.finite_array", validation.finite_array, lambda: {"name": "x", "value": array(3), "ndim": 1},
        (Bad("value", with_entry("value"), mentions="x"), Bad("value", wrong_ndim("value"), mentions="x"),
         Bad("value", st.one_of(st.floats(), st.text(max_size=2), st.none()), mentions="x"))),
    Row("validation.same_length", validation.same_length, lambda: {"name_a": "Z", "len_a": 3, "name_b": "y",
                                                                   "len_b": 3},
        (Bad("len_b", st.integers().filter(lambda n: n != 3), mentions="y"),)),
    Row("validation.matrix_and_vector", validation.matrix_and_vector,
        lambda: {"matrix_name": "W", "matrix": array(4, 3), "vector_name": "y", "vector": array(4, seed=1)},
        (Bad("matrix", with_entry("matrix"), mentions="W"), Bad("matrix", wrong_ndim("matrix"), mentions="W"),
         Bad("vector", with_entry("vector"), mentions="y"), Bad("vector", wrong_ndim("vector"), mentions="y"),
         Bad("vector", resized("vector"), mentions="y"))),
    Row("validation.trial_matrix", validation.trial_matrix, lambda: {"name": "x0", "value": tensor(2, 3)},
        (Bad("value", with_entry("value"), mentions="x0"), Bad("value", wrong_ndim("value"), mentions="x0"),
         Bad("value", st.just(torch.ones(2, 3, dtype=torch.int64)), mentions="x0"))),
    Row("validation.boolean", validation.boolean, lambda: {"name": "x", "value": True},
        (Bad("value", flags(), mentions="x"),)),
    Row("validation.positive_each", validation.positive_each, lambda: {"name": "x", "value": [0.1, 0.2], "count": 2},
        (Bad("value", (*step_sizes(), *per_run_lists(2)), mentions="x"),)),
    Row("validation.directory", validation.directory, lambda: {"name": "x", "value": A_FILE.parent},
        (Bad("value", (BAD_PATHS, st.one_of(st.none(), st.integers())), mentions="x"),)),
]

# problems ------------------------------------------------------------------
SIZES = (Bad("rows", counts(1)), Bad("columns", counts(1)), Bad("seed", counts(0)))
PROBLEM_ROWS = [
    Row("problems.uniform", problems.uniform,
        lambda: {"shape": (2, 3), "low": -1.0, "high": 1.0, "generator": torch.Generator().manual_seed(0)},
        (Bad("low", (*reals(), st.floats(min_value=1.0, allow_infinity=False))),
         Bad("high", (*reals(), st.floats(max_value=-1.0, allow_infinity=False))),
         Bad("shape", st.sampled_from([(2, -1), (1.5,), ("a", 2), (True,)])))),
    Row("problems.seeded_generator", problems.seeded_generator, lambda: {"seed": 0}, (Bad("seed", counts(0)),)),
    Row("problems.toy_lasso_initialisations", problems.toy_lasso_initialisations,
        lambda: {"trials": 2, "num_entries": 3, "seed": 0},
        (Bad("trials", counts(1)), Bad("num_entries", counts(1)), Bad("seed", counts(0)))),
    Row("problems.general_lasso_instance", problems.general_lasso_instance,
        lambda: {"seed": 0, "rows": 3, "columns": 4}, SIZES),
    Row("problems.non_capture_instance", problems.non_capture_instance,
        lambda: {"seed": 0, "rows": 3, "columns": 4}, SIZES),
    Row("problems.huber_instance", problems.huber_instance,
        lambda: {"seed": 0, "rows": 3, "columns": 4, "data": "normal"},
        (*SIZES, Bad("data", names(problems.HUBER_DATA)))),
]

# recursions ----------------------------------------------------------------
RECURSION_ROWS = [
    Row("recursions.run", recursions.run,
        lambda: {"rule": recursions.ndgm(0.1), "grad_fn": lambda b: recursions.l1_subgradient(b, 1.0),
                 "beta0": np.array([0.3, -0.2]), "steps": 3, "record_last": None},
        (Bad("steps", counts(0)), Bad("record_last", counts(1, none_ok=True)), Bad("beta0", with_entry("beta0"))),
        exempt=("rule, grad_fn: callables, not checked (a wrong one fails on the first step)",)),
    Row("recursions.ndgm_toy", recursions.ndgm_toy,
        lambda: {"beta0": np.array([0.3, -0.2]), "alpha": 0.1, "lambda1": 1.0, "steps": 3},
        (Bad("alpha", step_sizes()), Bad("lambda1", penalties()), Bad("steps", counts(0)),
         Bad("beta0", with_entry("beta0")))),
    Row("recursions.ista_toy", recursions.ista_toy,
        lambda: {"beta0": np.array([0.3, -0.2]), "alpha": 0.1, "lambda1": 1.0, "steps": 3},
        (Bad("alpha", step_sizes()), Bad("lambda1", penalties()), Bad("steps", counts(0)),
         Bad("beta0", with_entry("beta0")))),
]

# optimisers and runs -------------------------------------------------------
RUN_OPTIMISER_ROWS = [
    Row("optimisers.scheduled_rates", optimisers.scheduled_rates,
        lambda: {"lr": 0.1, "steps": 3, "scheduler": lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2)},
        (Bad("lr", step_sizes()), Bad("steps", counts(0))), exempt=("scheduler: a callable, not checked",)),
    Row("optimisers.make_optimiser", optimisers.make_optimiser,
        lambda: {"name": "rmsprop", "params": parameters(), "lr": 0.1},
        (Bad("name", names(optimisers.OPTIMISERS), mentions="optimiser"), Bad("lr", step_sizes()))),
    Row("runs.run_optimiser", runs.run_optimiser,
        lambda: {"loss_fn": lambda b: (b**2).sum(-1), "x0": tensor(2, 3), "optimiser": "adam", "lr": 0.1,
                 "steps": 2, "record_last": 2},
        (Bad("optimiser", names(optimisers.OPTIMISERS)), Bad("lr", (*step_sizes(), *per_run_lists(2))),
         Bad("steps", counts(0)), Bad("record_last", counts(1)), Bad("x0", with_entry("x0")),
         Bad("x0", wrong_ndim("x0")), Bad("x0", st.just(torch.zeros(2, 3, dtype=torch.int64)))),
        exempt=("loss_fn, measures, scheduler: callables, not checked",)),
    Row("runs.side_by_side", runs.side_by_side, lambda: {"pieces": [(lambda b: b.sum(-1), 2)]},
        (Bad("pieces", st.sampled_from([[], (), None, [(lambda b: b, 0)], [(lambda b: b, 1.5)], [(lambda b: b, True)],
                                        [("not callable", 2)], [(lambda b: b,)]])),)),
]

# lasso ---------------------------------------------------------------------
def lasso_instance():
    return {"W": array(4, 3, seed=1), "y": array(4, seed=2)}


INSTANCE = (*arrays("W"), Bad("W", resized("W", 0), mentions="W"), *arrays("y"))
RUNS = (*INSTANCE, Bad("lambda1", (*step_sizes(), *per_run_lists(2))),
        Bad("alpha", (*step_sizes(), *per_run_lists(2))), Bad("steps", counts(0)),
        Bad("beta0", with_entry("beta0")), Bad("beta0", wrong_ndim("beta0", ("add",))),
        Bad("beta0", resized("beta0", 1)))
LASSO_ROWS = [
    Row("lasso.sklearn_optimum", lasso.sklearn_optimum, lambda: {**lasso_instance(), "lambda1": 0.1},
        (*INSTANCE, Bad("lambda1", step_sizes()), Bad("tol", step_sizes()), Bad("max_iter", counts(1)))),
    Row("lasso.ndgm", lasso.ndgm,
        lambda: {**lasso_instance(), "lambda1": 0.1, "alpha": 0.05, "beta0": array(2, 3), "steps": 3}, RUNS),
    Row("lasso.ndgm_horizon", lasso.ndgm_horizon, lambda: {"beta0": [0.5, -0.2], "alpha": 0.01, "lambda1": 1.0},
        (Bad("alpha", step_sizes()), Bad("lambda1", step_sizes()))),
    Row("lasso.ista", lasso.ista,
        lambda: {**lasso_instance(), "lambda1": [0.1, 0.2], "alpha": 0.05, "beta0": array(2, 3), "steps": 3}, RUNS),
]

# convex --------------------------------------------------------------------
CONVEX_ROWS = [
    Row("convex.iterations_to_accuracy", convex.iterations_to_accuracy,
        lambda: {"gaps": np.array([3.0, 1.0, 0.1]), "accuracy": 0.5},
        (Bad("accuracy", step_sizes()), Bad("gaps", with_entry("gaps")), Bad("gaps", wrong_ndim("gaps")))),
    Row("convex.power_law_exponent", convex.power_law_exponent,
        lambda: {"x": np.array([1.0, 10.0, 100.0]), "y": np.array([1.0, 100.0, 1e4])},
        (*(Bad(name, with_entry(name, NON_FINITE, ZERO, NEGATIVE)) for name in ("x", "y")),
         Bad("y", resized("y")), Bad("x", wrong_ndim("x")), Bad("x", st.just(np.array([2.0]))))),
    Row("convex.oscillation_rate", convex.oscillation_rate, lambda: {"losses": np.array([0.0, 1.0, 0.0, 1.0])},
        (Bad("losses", with_entry("losses")), Bad("losses", wrong_ndim("losses")),
         Bad("losses", st.integers(0, 2).map(lambda n: np.zeros(n))))),
]

# geometry ------------------------------------------------------------------
def polyhedron():
    """f(x) = max(|x_1|, |x_2|) as a max-affine function."""
    return {"A": np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]), "b": np.zeros(4)}


def max_abs():
    return {**polyhedron(), "c": np.array([0.0, 0.0])}


def vectors(*arguments: str) -> tuple[Bad, ...]:
    return tuple(bad for argument in arguments for bad in arrays(argument))


POLYHEDRON = (*vectors("b"), Bad("A", with_entry("A")), Bad("A", wrong_ndim("A")), Bad("A", resized("A")))
AT_C = (*POLYHEDRON, *vectors("c"))
RELU_AT_ZERO = (*arrays("Z", (0, 1)), *arrays("y"), Bad("lambda1", penalties()))


def relu_at_zero():
    return {"Z": array(4, 3), "y": array(4, seed=1, low=-1.0) * 0.5 - 0.5, "lambda1": 0.1}


GEOMETRY_ROWS = [
    Row("geometry.max_affine", geometry.max_affine, lambda: {**polyhedron(), "x": np.array([[0.5, 0.2]])},
        (*POLYHEDRON, Bad("x", with_entry("x")), Bad("x", resized("x", -1)), Bad("x", st.just(np.float64(1.0))))),
    Row("geometry.max_affine_minimum", geometry.max_affine_minimum, polyhedron, POLYHEDRON),
    Row("geometry.min_common_value", geometry.min_common_value, max_abs, AT_C),
    Row("geometry.crossing_value", geometry.crossing_value, lambda: {**max_abs(), "mu": np.array([0.2, 0.0])},
        (*AT_C, *vectors("mu"))),
    Row("geometry.max_crossing", geometry.max_crossing, max_abs, AT_C),
    Row("geometry.is_supporting_slope", geometry.is_supporting_slope,
        lambda: {**max_abs(), "g": np.array([0.5, 0.0]), "tolerance": 1e-9},
        (*AT_C, *vectors("g"), Bad("tolerance", penalties()))),
    Row("geometry.active_pieces", geometry.active_pieces, lambda: {**max_abs(), "tolerance": 1e-9},
        (*AT_C, Bad("tolerance", penalties()))),
    Row("geometry.directional_derivative", geometry.directional_derivative,
        lambda: {**max_abs(), "d": np.array([1.0, 0.0])}, (*AT_C, *vectors("d"))),
    Row("geometry.subdifferential_width", geometry.subdifferential_width,
        lambda: {**max_abs(), "d": np.array([1.0, 0.0])}, (*AT_C, *vectors("d"))),
    Row("geometry.vertical_hyperplane_supports", geometry.vertical_hyperplane_supports,
        lambda: {**max_abs(), "normal": np.array([1.0, 0.0])}, (*AT_C, *vectors("normal"))),
    Row("geometry.relu_regression_directional_derivative_at_zero",
        geometry.relu_regression_directional_derivative_at_zero,
        lambda: {**relu_at_zero(), "d": array(3, seed=3)}, (*RELU_AT_ZERO, *vectors("d"))),
    Row("geometry.in_relu_regression_subdifferential_at_zero", geometry.in_relu_regression_subdifferential_at_zero,
        lambda: {**relu_at_zero(), "g": np.zeros(3), "tolerance": 1e-9},
        (*RELU_AT_ZERO, *vectors("g"), Bad("tolerance", penalties()),
         Bad("y", with_entry("y", st.floats(min_value=0.01, max_value=10.0))))),
    Row("geometry.one_sided_derivatives", geometry.one_sided_derivatives,
        lambda: {"f": lambda x: float(np.abs(x).sum()), "x": np.zeros(2), "d": np.array([1.0, 0.0]), "h": 1e-7},
        (Bad("h", step_sizes()), Bad("x", with_entry("x")), Bad("d", with_entry("d")), Bad("d", resized("d"))),
        exempt=("f: a callable, not checked",)),
]

# models --------------------------------------------------------------------
MODEL_ROWS = [
    Row("models.SmallVGG", models.SmallVGG,
        lambda: {"cfg_name": "VGG11", "activation": "gelu", "batch_norm": True, "num_classes": 10},
        (Bad("cfg_name", names(models.CFG)), Bad("activation", names(models.ACTIVATIONS)),
         Bad("batch_norm", flags()), Bad("num_classes", counts(1)))),
    Row("models.conv_layers", models.conv_layers,
        lambda: {"cfg": [4, "M", 8], "activation": "relu", "batch_norm": False, "in_channels": 3},
        (Bad("cfg", st.sampled_from([[0], [4, -2, "M"], ["X"], [1.5], [True]])),
         Bad("activation", names(models.ACTIVATIONS)), Bad("batch_norm", flags()), Bad("in_channels", counts(1)))),
    Row("models.vgg16", models.vgg16, lambda: {"width_divisor": 64, "pretrained": False},
        (Bad("width_divisor", (*counts(1), st.integers(65, 10**6))), Bad("pretrained", flags()))),
    Row("models.build", models.build,
        lambda: {"name": "VGG11", "activation": "relu", "batch_norm": False, "width_divisor": 1, "pretrained": False},
        (Bad("name", names([*models.CFG, "VGG16"])), Bad("activation", names(models.ACTIVATIONS)),
         Bad("batch_norm", flags()), Bad("width_divisor", counts(1)), Bad("pretrained", flags()))),
]

# data ----------------------------------------------------------------------
def tiny_device_data() -> data.DeviceData:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (8,), generator=generator)
    return data.DeviceData("random", "random uint8 images", images, labels, images[:4], labels[:4], "random:8")


CIFAR_OPTION = "--gdcut-cifar10"
DATA_ROWS = [
    Row("data.read_idx", data.read_idx, lambda: {"path": FASHION_TEST_LABELS},
        (Bad("path", st.sampled_from([MISSING_PATH, A_FILE, data.FASHION_MNIST_DIR])),), needs_fashion_mnist=True),
    Row("data.fashion_mnist_arrays", data.fashion_mnist_arrays,
        lambda: {"directory": data.FASHION_MNIST_DIR, "split": "test"},
        (Bad("directory", BAD_PATHS), Bad("split", names(data.FASHION_MNIST_FILES))), needs_fashion_mnist=True),
    Row("data.cifar10_arrays", data.cifar10_arrays, lambda: {"root": MISSING_PATH, "split": "train", "download": False},
        (Bad("root", BAD_PATHS), Bad("split", names(["train", "test"])), Bad("download", flags())),
        no_valid_call="needs CIFAR-10 on disk; tests/test_data.py runs it on a stand-in"),
    Row("data.load", data.load, lambda: {"device": "cpu", "train_size": 8, "test_size": 8},
        (Bad("train_size", counts(1, none_ok=True)), Bad("test_size", counts(1, none_ok=True)),
         Bad("allow_download", flags()),
         Bad("cifar_dir", BAD_PATHS, raises=(data.DataUnavailable,)),
         Bad("fashion_mnist_dir", BAD_PATHS, raises=(data.DataUnavailable,)),
         Bad("device", st.sampled_from(["gpu7", "cpu:x", "tpu"]), raises=(RuntimeError,))),
        needs_fashion_mnist=True,
        exempt=("device: torch.device's own RuntimeError, which names the device string",
                "download_root: only read when a download is allowed (no downloads in tests)")),
    Row("data.for_run", data.for_run,
        lambda: {"settings": SimpleNamespace(device="cpu", cifar_dir=None, allow_download=False, cache_dir=A_FILE,
                                             fashion_mnist_dir=data.FASHION_MNIST_DIR),
                 "train_size": 8, "test_size": 8},
        (Bad("train_size", counts(1, none_ok=True)), Bad("test_size", counts(1, none_ok=True)),
         Bad("settings", BAD_PATHS.map(lambda path: SimpleNamespace(
             device="cpu", cifar_dir=path, allow_download=False, cache_dir=A_FILE,
             fashion_mnist_dir=data.FASHION_MNIST_DIR)),
             raises=(data.DataUnavailable,), mentions=CIFAR_OPTION)),
        needs_fashion_mnist=True),
    Row("data.fashion_mnist_directory", data.fashion_mnist_directory,
        lambda: {"fashion_mnist_dir": data.FASHION_MNIST_DIR},
        (Bad("fashion_mnist_dir", st.one_of(BAD_PATHS, st.sampled_from([A_FILE.parent, None, 3]))),),
        needs_fashion_mnist=True),
]

# train ---------------------------------------------------------------------
def train_config(**changes) -> dict:
    return {"model": "VGG11", "optimiser": "adam", "lr": 1e-3, "epochs": 1, "batch_size": 4, "seed": 0, **changes}


def parameters():
    return [torch.linspace(-1.0, 1.0, 6, requires_grad=True)]


TRAIN_ROWS = [
    Row("train.TrainConfig", train.TrainConfig, train_config,
        (Bad("model", names([*models.CFG, "VGG16"])), Bad("optimiser", names(optimisers.OPTIMISERS)),
         Bad("lr", step_sizes()), Bad("epochs", counts(1)), Bad("batch_size", counts(1)), Bad("seed", counts(0)),
         Bad("activation", names(models.ACTIVATIONS)), Bad("batch_norm", flags()),
         Bad("width_divisor", counts(1)), Bad("pretrained", flags()), Bad("lambda1", penalties()),
         Bad("shuffle", flags()), Bad("forward_dtype", names(train.FORWARD_DTYPES)))),
    Row("train.add_l1_subgradient_", train.add_l1_subgradient_,
        lambda: {"params": parameters(), "lambda1": 0.1, "bucket_elements": 4},
        (Bad("lambda1", penalties()), Bad("bucket_elements", counts(1)))),
    Row("train.share_below_threshold", train.share_below_threshold,
        lambda: {"model": nn.Linear(2, 2), "threshold": 1e-5}, (Bad("threshold", step_sizes()),)),
    Row("train.sample_weights", train.sample_weights,
        lambda: {"model": nn.Linear(2, 2), "count": 5, "generator": torch.Generator().manual_seed(0)},
        (Bad("count", counts(1)),)),
    Row("train.share_cpu_between_workers", train.share_cpu_between_workers, lambda: {"device": "cpu"},
        (Bad("device", st.sampled_from(["gpu7", "tpu"]), raises=(RuntimeError,)),),
        exempt=("device: torch.device's own RuntimeError, which names the device string",)),
    Row("train.train", train.train,
        lambda: {"config": train.TrainConfig(**train_config(epochs=1, batch_size=8)), "data": tiny_device_data(),
                 "cache_dir": None, "progress": False, "checkpoint_every": 1},
        (Bad("config", st.one_of(st.none(), st.just(train_config()))), Bad("data", st.none()),
         Bad("progress", flags()), Bad("checkpoint_every", counts(1)))),
    Row("train.accuracy", train.accuracy,
        lambda: {"model": models.SmallVGG("VGG11", "relu", False), "data": tiny_device_data(), "batch_size": 3},
        (Bad("batch_size", counts(1)),)),
]

# scales --------------------------------------------------------------------
SCALE_ROWS = [
    Row("scales.convergence", scales.convergence, lambda: {"scale": "smoke"}, (Bad("scale", names(scales.CONVERGENCE)),)),
    Row("scales.l1", scales.l1, lambda: {"scale": "paper"}, (Bad("scale", names(scales.L1)),)),
    Row("scales.settle_epochs", scales.settle_epochs, lambda: {"horizon": 100, "per_epoch": 10},
        (Bad("horizon", counts(0)), Bad("per_epoch", counts(1)))),
    Row("scales.steps_per_epoch", scales.steps_per_epoch,
        lambda: {"config": train.TrainConfig(**train_config(epochs=1, batch_size=8)), "train_size": 64},
        (Bad("train_size", counts(1)),)),
    Row("scales.convergence_config", scales.convergence_config,
        lambda: {"scale": "smoke", "depth": "VGG19", "activation": "gelu", "batch_norm": True, "seed": 2},
        (Bad("scale", names(scales.CONVERGENCE)), Bad("depth", names(["VGG11", "VGG19"])),
         Bad("activation", names(models.ACTIVATIONS)), Bad("batch_norm", flags()), Bad("seed", counts(0)))),
    Row("scales.l1_config", scales.l1_config,
        lambda: {"scale": "smoke", "version": "v2", "optimiser": "rmsprop", "lambda1": 2.0, "pretrained": False},
        (Bad("scale", names(scales.L1)), Bad("version", names(["v1", "v2"])),
         Bad("optimiser", names(scales.V2_L1["optimisers"])),
         Bad("lambda1", (*penalties(), st.floats(0, 10).filter(lambda x: x not in (0.002, 2.0)))),
         Bad("pretrained", flags()), Bad("procedure", names(scales.V2_PROCEDURES)))),
]

# precision, stacked runs, the program's jobs, distribution ----------------
def seed_configs(*seeds, **changes) -> list:
    return [train.TrainConfig(**train_config(epochs=1, batch_size=4, seed=seed, **changes)) for seed in seeds]


DEEP_MODULES = {program.CONVERGENCE_MODULE, program.L1_MODULE}
RUN_ROWS = [
    Row("precision.forward_dtype", precision.forward_dtype, lambda: {"precision": "bf16"},
        (Bad("precision", names(precision.PRECISIONS)),)),
    Row("precision.describe", precision.describe, lambda: {"precision": "paper"},
        (Bad("precision", names(precision.PRECISIONS)),)),
    Row("stacked.check_stackable", stacked.check_stackable, lambda: {"configs": seed_configs(0, 1)},
        (Bad("configs", st.sampled_from([[], None, seed_configs(0, 0), [*seed_configs(0), *seed_configs(1, lr=0.5)],
                                         seed_configs(0, 1, model="VGG16", width_divisor=32), ["VGG11"]])),)),
    Row("stacked.train_group", stacked.train_group,
        lambda: {"configs": seed_configs(0, 1), "data": tiny_device_data(), "cache_dir": None, "progress": False},
        (Bad("configs", st.sampled_from([[], seed_configs(2, 2)])), Bad("data", st.none()),
         Bad("progress", flags()))),
    Row("program.jobs", program.jobs,
        lambda: {"scale": "tiny", "precision_name": "bf16", "modules": DEEP_MODULES, "stack": True},
        (Bad("scale", names(scales.L1)), Bad("precision_name", names(precision.PRECISIONS), mentions="precision"),
         Bad("modules", st.sampled_from([{"claims/test_lasso_toy.py"}, {"x"}])), Bad("stack", flags()))),
    Row("distribute.gpu_for_worker", distribute.gpu_for_worker, lambda: {"worker_id": "gw3", "device_count": 2},
        (Bad("worker_id", st.sampled_from(["gw", "main", "gw-1", None, 3])), Bad("device_count", counts(1)))),
    Row("distribute.parse_shard", distribute.parse_shard, lambda: {"text": "2/3"},
        (Bad("text", st.sampled_from(["3/2", "0/1", "1/0", "a/b", "1", None]), mentions="--gdcut-shard"),)),
]

GAPS = [1.0, 1.1, 0.9, 1.05, 0.95]
RULE_ROWS = [
    Row("deepnet.l1_finding", deepnet.l1_finding, lambda: {"values": {"r": 2.0}, "paper": "r = 32.7"},
        (Bad("paper", st.one_of(st.just(""), st.just("  "), st.none(), st.integers())),)),
    Row("rules.paired_superiority", rules.paired_superiority,
        lambda: {"gaps": GAPS, "margin": 0.1, "rule": "r", "statistic": "s"}, (Bad("margin", step_sizes()),)),
    Row("rules.paired_equivalence", rules.paired_equivalence,
        lambda: {"gaps": GAPS, "margin": 0.1, "rule": "r", "statistic": "s"}, (Bad("margin", step_sizes()),)),
    Row("rules.difference_superiority", rules.difference_superiority,
        lambda: {"larger": GAPS, "smaller": GAPS, "margin": 0.1, "rule": "r", "statistic": "s"},
        (Bad("margin", step_sizes()),)),
    Row("rules.share_bounds", rules.share_bounds, lambda: {"hits": 3, "n": 10},
        (Bad("hits", counts(0)), Bad("n", counts(1)))),
    Row("rules.share_rule", rules.share_rule,
        lambda: {"hits": 3, "n": 10, "level": 0.5, "rule": "r", "statistic": "s"},
        (Bad("level", st.sampled_from([0.0, 1.0, -0.5, 2.0, math.nan])),)),
    Row("rules.unanimity_rule", rules.unanimity_rule,
        lambda: {"outcomes": [True, None], "rule": "r", "statistic": "s", "min_n": 1},
        (Bad("outcomes", st.sampled_from([[1], ["yes"], [0.5]])),)),
    Row("rules.counterexample_rule", rules.counterexample_rule,
        lambda: {"outcomes": [True, None], "rule": "r", "statistic": "s", "min_n": 1},
        (Bad("outcomes", st.sampled_from([[1], ["yes"], [0.5]])),)),
    Row("rules.within_seed_spread", rules.within_seed_spread,
        lambda: {"gaps": GAPS, "spread": 0.1, "rule": "r", "statistic": "s"}, (Bad("spread", step_sizes()),)),
    Row("rules.by_words", rules.by_words, lambda: {"words": "typically"},
        (Bad("words", st.sampled_from(["usually", "", "Typically"])),)),
]

# mutation ------------------------------------------------------------------
MUTATION_ROWS = [
    Row("mutation.apply", mutation.apply, lambda: {"name": "sign-zero-is-one"},
        (Bad("name", names(mutation.MUTANTS), mentions=mutation.OPTION),),
        no_valid_call="a valid call installs a mutant in this process"),
    Row("mutation.run_mutants", mutation.run_mutants,
        lambda: {"names": ["sign-zero-is-one"], "root": Path(__file__).parents[1]},
        (Bad("names", st.lists(st.one_of(*names(mutation.MUTANTS)), min_size=1, max_size=2)), Bad("root", BAD_PATHS)),
        no_valid_call="a valid call runs the claims in pytest subprocesses for minutes"),
]

# ledger entry points -------------------------------------------------------
def not_ledgers() -> Kinds:
    return st.sampled_from([None, {}, {"verdicts": []}]), st.lists(st.integers(), max_size=2), st.text(max_size=3)


LEDGER_ROWS = [
    Row("ledger.registry.load_registry", registry.load_registry, lambda: {"path": registry.REGISTRY_PATH},
        (Bad("path", st.sampled_from([MISSING_PATH, A_FILE, A_FILE.parent])),)),
    Row("ledger.registry.claim", registry.claim, lambda: {"claim_id": "L3"},
        (Bad("claim_id", names(registry.registry())),)),
    Row("ledger.diff.diff_ledgers", diff.diff_ledgers, lambda: {"old": {"claims": []}, "new": {"claims": []}},
        (Bad("old", not_ledgers()), Bad("new", not_ledgers()))),
    Row("ledger.render.build_ledger", render.build_ledger,
        lambda: {"registry": registry.registry(), "results": [], "inventory": {}, "provenance": {}},
        (Bad("results", st.sampled_from([[{"nodeid": "claims/test_x.py::test_y"}], [None], None])),
         Bad("generated_at", st.one_of(st.text(max_size=3), st.integers())))),
    Row("ledger.render.write_ledger", render.write_ledger,
        lambda: {"ledger": render.build_ledger(registry.registry(), [], {}, {}), "reports_dir": A_FILE},
        (Bad("reports_dir", st.just(A_FILE), raises=(OSError,), mentions=str(A_FILE)),),
        no_valid_call="tests/test_ledger_plugin.py writes real ledgers",
        exempt=("reports_dir: an OSError naming the path, which the plugin reports as 'could not write the claims "
                "ledger to DIR' (tests/test_ledger_plugin.py)",)),
    Row("ledger.merge.merge_ledgers", merge.merge_ledgers,
        lambda: {"ledgers": [render.build_ledger(registry.registry(), [], {}, {}) | {
            merge.MERGE_KEY: merge.merge_input([], {})}], "names": ["a.json"]},
        (Bad("ledgers", st.sampled_from([[], None, [{}], [{"provenance": {}}]])),
         Bad("names", st.sampled_from([[], None, ["a", "b"]])))),
    Row("scales.resolve_scale", scales.resolve_scale, lambda: {"requested": "auto", "cuda_available": False},
        (Bad("requested", names(scales.SCALES)), Bad("cuda_available", flags()))),
]

TABLE: tuple[Row, ...] = (*LOSS_ROWS, *VALIDATION_ROWS, *PROBLEM_ROWS, *RECURSION_ROWS,
                          *RUN_OPTIMISER_ROWS, *LASSO_ROWS, *CONVEX_ROWS, *GEOMETRY_ROWS, *MODEL_ROWS, *DATA_ROWS,
                          *TRAIN_ROWS, *SCALE_ROWS, *RUN_ROWS, *RULE_ROWS, *MUTATION_ROWS, *LEDGER_ROWS)

#: Closed forms that only our own code calls, with numbers that a boundary function (a problem builder, a runner,
#: a config) has already checked: they take no argument checks (issue 13, item 7).  gdcut.closed_forms is not
#: in MODULES: it holds such closed forms and penalty_only_run, the penalty alone simulated on a trained run's
#: sampled weights, which only gdcut.deepnet calls, with a checked TrainConfig's optimiser, lr and lambda1.
CLOSED_FORM = "an internal closed form, called with already checked arguments"
INTERNAL = ("recursions.ndgm", "recursions.heavy_ball", "recursions.torch_momentum", "recursions.rmsprop_paper",
            "recursions.rmsprop_torch", "recursions.second_moment_only", "lasso.lasso_objective", "lasso.lambda_max",
            "lasso.smooth_lipschitz", "convex.best_iterate_bound", "convex.gd_smooth_bound",
            "convex.constant_step_limsup_bound", "convex.sharp_max_affine_limsup_bound",
            "convex.quadratic_top_eigenvalue", "convex.huber_smoothness", "convex.huber_lipschitz_bounds",
            "convex.max_affine_sharpness")

#: Public names that take no argument checks, and why.
EXEMPT = {
    **{name: CLOSED_FORM for name in INTERNAL},
    **{f"analytic_rules.{name}": "a pre-registered rule over outcomes a claim measured (tests/test_analytic_rules.py)"
       for name in ("tail", "c1_seed_outcome", "c1_rule", "e3_bounded_outcome", "e3_visible_oscillation_rate",
                    "e3_rise_outcome", "e3_bounded_rule", "e3_faster_rule", "e3_rise_rule", "l13_nonzero_rule",
                    "l13_absorbing_rule", "l16_ordering_rule")},
    "rules.Wording": "a record of the table rules.PAPER_WORDS (tests/test_rulebook.py checks the table)",
    "analytic_rules.c1_some_rate_rule": "a pre-registered rule over outcomes a claim measured",
    "problems.huber_start": "builds E3's starts by label from problems.HUBER_STARTS; a KeyError names an unknown one",
    "lasso.ndgm_window_norms": "runs lasso.ndgm, whose validation row covers the same arguments",
    "recursions.rmsprop_torch_high_precision": "a reference recursion in mpmath checked against torch "
                                               "(tests/test_recursions.py); the closed forms it feeds do not check again",
    "optimisers.default_setting": "reads the optimiser registry by name; an unknown name is a KeyError of the registry",
    "convex.Cycle": "record returned by convex.max_affine_cycle",
    "convex.max_affine_cycle": "exact-arithmetic helper over ints and Fractions (not arrays); its ValueErrors are "
                               "tested in tests/test_convex.py",
    "search.find_counterexample": "takes callables and a Hypothesis strategy; its ValueErrors are tested in "
                                  "tests/test_convex.py",
    "losses.l1_norm": "a reduction inside every loss evaluation (hot loop); any tensor is valid input",
    "train.training_step": "one step of train()'s inner loop (hot loop): train() validates the config it is built from,"
                           " and add_l1_subgradient_ inside it checks lambda1",
    "recursions.UpdateRule": "a NamedTuple of two functions; the rule factories are internal (INTERNAL), and "
                             "recursions.run, ndgm_toy and ista_toy check what reaches them",
    "recursions.l1_subgradient": "elementwise, inside every recursion step (hot loop); exact on Fractions",
    "recursions.soft_threshold": "elementwise, inside every ISTA step (hot loop); exact on Fractions",
    "runs.Run": "a result record built by run_optimiser",
    "lasso.smooth_gradient": "inside every ndgm/ista step (hot loop); those check W, y and beta0 once",
    "convex.Trajectory": "a result record built by gradient_method",
    "convex.gradient_method": "the hand-written reference of runs.run_optimiser, called only by tests/test_runs.py",
    "models.hub_vgg16_weights": "takes no arguments",
    "data.DataUnavailable": "the exception that load raises",
    "data.DeviceData": "a record built by load; its batch method is the per-step hot path",
    "data.normalise": "per-batch hot path on uint8 tensors that load produced",
    "train.weights_l1_norm": "a measurement over whatever parameters a model has",
    "train.final_shares": "a measurement over whatever parameters a model has, at the fixed SHARE_THRESHOLDS",
    "train.numerical_settings": "reads torch's global settings; any device object is described as given",
    "train.precision_summary": "formats the TrainResult that train returned",
    "train.TrainResult": "a result record built by train (and gdcut.stacked); the cache reads it back with from_plain",
    "train.cache_key": "called by train on a checked TrainConfig and DeviceData",
    "train.code_digest": "takes no arguments",
    "rules.Ruling": "a record; its __post_init__ checks every field (tests/test_rules.py)",
    "deepnet.area_under_loss": "reads a TrainResult that train returned",
    "deepnet.paired_gaps": "reads TrainResults that train returned",
    "deepnet.untrained": "reads TrainResults that train returned",
    "deepnet.c5_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.c5_widening_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.c6_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.sweep_ruling": "a rule over Rulings; rejects what is not one (tests/test_deepnet.py)",
    "deepnet.unswept": "reads the (optimiser, lr) settings of a checked preset",
    "deepnet.setting_name": "a card's label for an (optimiser, lr) setting of a checked preset",
    "deepnet.seed_spread": "reads TrainResults that train returned; too few seeds or a non-finite area is a "
                           "ValueError (tests/test_deepnet.py)",
    "deepnet.indistinguishable_ruling": "a rule; a spread that is not positive is a ValueError (tests/test_deepnet.py)",
    "deepnet.convergence_sweep": "the C5/C6 claim tests' runs from the session's RunSettings (convergence_runs)",
    "deepnet.record_sweep_decision": "writes a claim test's evidence from Rulings a rule returned",
    "deepnet.data_sets": "reads the TrainResults of sweeps that convergence_sweep returned",
    "deepnet.settle_window": "reads a TrainResult that train returned",
    "deepnet.window": "reads a TrainResult that train returned",
    "deepnet.over_lengths": "applies a rule of this module to sweeps that convergence_sweep returned",
    "deepnet.lengths": "reads the PairedRuns of a sweep that convergence_sweep returned",
    "deepnet.lengths_ruling": "Rulings by training length; a missing natural length or a non-Ruling is a ValueError "
                              "(tests/test_deepnet.py)",
    "deepnet.first_epochs": "reads a TrainResult that train returned; epochs beyond the run or not a positive "
                            "integer is a ValueError (tests/test_deepnet.py)",
    "deepnet.lengthened": "a TrainResult that train returned, from the session's RunSettings",
    "deepnet.settled": "TrainResults that train returned, with a ruling of this module",
    "deepnet.record_l1_decision": "writes a claim test's evidence from a Ruling a rule of this module returned",
    "deepnet.record_l1_reading": "writes a claim test's note from a Ruling a rule of this module returned",
    "scales.saturation_steps": "an optimiser name of v2's loop (validation.one_of)",
    "scales.hands_on": "reads a TrainConfig, which checked itself",
    "scales.may_run_on": "a scale name, which scales.l1 checks",
    "scales.successor_config": "what is not an App. C successor and its optimiser's λ1 = 2 run is a ValueError "
                               "(tests/test_cpu_scale.py)",
    "deepnet.rebased": "TrainResults that train returned; the new start's cap check is scales.successor_config's",
    "deepnet.threshold_rows": "formats figure rows from TrainResults that train returned",
    "deepnet.beyond_cap_ruling": "rejects what is not a scales.HorizonBeyondCap",
    "scales.HorizonBeyondCap": "an exception type",
    "scales.initial_weight_sample": "called by l1_config with a checked TrainConfig's fields",
    "scales.penalty_horizon": "called by l1_run_epochs with a checked TrainConfig",
    "scales.run_step_cap": "reads a scale preset from scales.l1 and a checked TrainConfig (tests/test_cpu_scale.py)",
    "scales.sgd_crossing_step": "bisection called with a checked run's initial weights, lr and lambda1",
    "scales.l1_run_epochs": "a cap below the horizon is a HorizonBeyondCap naming step_cap, a preset without a cap "
                            "a ValueError (tests/test_cpu_scale.py)",
    "deepnet.band_width": "a closed form called with a checked run's optimiser, lr and lambda1",
    "deepnet.Prediction": "a result record built by predict",
    "deepnet.predict": "reads a TrainResult that train returned",
    "deepnet.settled_l1": "reads a TrainResult that train returned",
    "deepnet.settled_share": "reads a TrainResult that train returned",
    "deepnet.sgd_penalty_l1": "a closed form over a TrainResult that train returned",
    "deepnet.sgd_crossing_step": "bisection over TrainResults that train returned",
    "deepnet.l1_order_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.optimisers_differ_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.share_pattern_ruling": "a rule over TrainResults that train returned (tests/test_deepnet.py)",
    "deepnet.convergence_runs": "the C5/C6 claim tests' runs from the session's RunSettings; scales.convergence_config "
                                "checks depth, activation and seed, train.train the rest",
    "deepnet.skip_unless_at_scale": "a pytest.skip for the claim tests, on a preset and a parametrised depth",
    "deepnet.record_convergence_cell": "writes a claim test's evidence from TrainResults that train returned",
    "deepnet.l1_run": "the L18-L20 claim tests' runs from the session's RunSettings; scales.l1_config checks version, "
                      "optimiser, lambda1 and procedure",
    "deepnet.v1_runs": "the L18 runs from the session's RunSettings (l1_run)",
    "deepnet.v2_runs": "the L19/L20 runs from the session's RunSettings (l1_run checks optimiser and procedure)",
    "deepnet.v2_cells": "lists (optimiser, procedure) pairs of the optimisers given",
    "deepnet.cell_name": "a card's label for an (optimiser, procedure) pair from v2_cells",
    "deepnet.describe_l1_run": "writes a claim test's evidence from a TrainResult that train returned",
    "deepnet.miniature_gaps": "reads a TrainResult that train returned and the DeviceData it trained on",
    "deepnet.prediction_row": "formats a table row from a TrainResult that train returned",
    "scales.ConvergenceScale": "preset records; their values are checked when scales turn them into TrainConfig",
    "scales.L1Scale": "preset records; their values are checked when scales turn them into TrainConfig",
    "scales.RunSettings": "a record the plugin's settings_from_config builds from options pytest has checked",
    "mutation.Mutant": "records of the module's own mutant table",
    "mutation.main": "command line; test_mutation_command_line_rejects_unknown_mutants below",
    "mutation.pytest_addoption": "a pytest hook",
    "mutation.pytest_configure": "a pytest hook; an unknown --gdcut-mutant is a usage error (tests/test_mutation.py)",
    "precision.set_kernel_flags": "takes no arguments",
    "precision.compile_wanted": "reads GDCUT_COMPILE (checked, naming it); train passes data.device",
    "precision.CompiledOrEager": "a wrapper train builds around its model; tests/test_precision.py",
    "progress.RunProgress": "built by train and stacked from a checked TrainConfig",
    "program.Job": "a record built by jobs",
    "distribute.TrainingRun": "a pytest item built by pytest_collection_modifyitems",
    "distribute.pytest_addoption": "a pytest hook",
    "distribute.pytest_cmdline_main": "a pytest hook over xdist's parsed options (tests/test_distribute.py)",
    "distribute.pytest_configure": "a pytest hook; --gdcut-shard is checked there (tests/test_distribute.py)",
    "distribute.pytest_collection_modifyitems": "a pytest hook (tests/test_merge.py runs it sharded)",
}

ROWS = {row.name: row for row in TABLE}


# --------------------------------------------------------------------------- strategy and tests
class Call:
    """One call of a row's function with ``bad.argument`` made bad (a plain class: short failure reports)."""

    def __init__(self, row: Row, bad: Bad, arguments: dict):
        self.row, self.bad, self.arguments = row, bad, arguments

    def __repr__(self) -> str:
        return f"{self.row.name}({self.bad.argument}={self.arguments[self.bad.argument]!r})"


@st.composite
def bad_calls(draw, rows: tuple[Row, ...] = TABLE, bad: Bad | None = None, kind: int | None = None) -> Call:
    """(function, argument, bad value): a baseline call of a drawn row with one argument made bad.

    ``bad`` and ``kind`` fix the argument and the kind of bad value instead of drawing them.
    """
    row = draw(st.sampled_from(rows))
    if not fashion_present and row.needs_fashion_mnist:
        row = ROWS["validation.positive"]
    chosen = bad if bad is not None else draw(st.sampled_from(row.bad))
    kind = kind if kind is not None else draw(st.sampled_from(range(len(chosen.kinds))))
    arguments = row.arguments()
    arguments[chosen.argument] = draw(chosen.strategy(kind, arguments))
    return Call(row, chosen, arguments)


def _mentions(message: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w])", message) is not None


def check_rejected(call: Call) -> None:
    note(repr(call))
    with pytest.raises(call.bad.raises) as raised:
        call.row.function(**call.arguments)
    message = str(raised.value)
    note(f"message: {message}")
    assert _mentions(message, call.bad.named), f"{call!r} raised {message!r}, which does not name {call.bad.named!r}"


@given(call=bad_calls())
def test_bad_call_anywhere_in_the_table_is_rejected_naming_the_argument(call):
    event(call.row.name)
    check_rejected(call)


@pytest.mark.parametrize("row", TABLE, ids=repr)
@settings(max_examples=max(5, settings.default.max_examples // 5))  # lowered: each example makes ~10-40 calls
@given(data=st.data())
def test_every_argument_rejects_every_kind_of_bad_value(row, data):
    """Each example draws one value of every kind for every argument of the row, and calls once per value."""
    if row.needs_fashion_mnist and not fashion_present:
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    for bad in row.bad:
        for kind in range(len(bad.kinds)):
            call = data.draw(bad_calls((row,), bad, kind))
            event(f"{bad.argument}: {type(call.arguments[bad.argument]).__name__}")
            check_rejected(call)


@pytest.mark.parametrize("row", [row for row in TABLE if not row.no_valid_call], ids=repr)
def test_valid_baseline_call_succeeds(row):
    """The table's baselines are valid, so each bad call differs from a good one in one argument only."""
    if row.needs_fashion_mnist and not fashion_present:
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    row.function(**row.arguments())


def test_table_covers_every_public_function_or_says_why_not():
    public = {
        f"{module.__name__.removeprefix('gdcut.')}.{name}"
        for module in MODULES
        for name, value in vars(module).items()
        if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__
    }
    assert public - ROWS.keys() - EXEMPT.keys() == set(), "public functions without a validation row"
    assert (ROWS.keys() | EXEMPT.keys()) - public - {name for name in ROWS if name.startswith("ledger.")} == set()
    assert ROWS.keys() & EXEMPT.keys() == set()
    for row in TABLE:  # every row's arguments are real parameters of its function
        signature = inspect.signature(row.function)
        assert {bad.argument for bad in row.bad} <= signature.parameters.keys(), row.name


# --------------------------------------------------------------------------- command lines and options
def test_mutation_command_line_rejects_unknown_mutants(capsys):
    with pytest.raises(SystemExit) as stopped:
        mutation.main(["--mutant", "no-such-mutant"])
    assert stopped.value.code == 2
    assert "--mutant" in capsys.readouterr().err


def test_ledger_diff_command_line_names_an_unreadable_ledger(capsys):
    assert diff.main([str(MISSING_PATH / "old.json"), str(MISSING_PATH / "new.json")]) == 2
    assert "cannot read ledger" in capsys.readouterr().err
    assert diff.main(["only-one.json"]) == 2


@pytest.fixture
def project(pytester):
    pytester.makeini("[pytest]\n")
    pytester.makeconftest('pytest_plugins = ["gdcut.ledger.plugin"]\n')
    (pytester.path / "claims").mkdir()
    return pytester


def test_unknown_scale_option_is_rejected_by_argparse(project):
    result = project.runpytest("--gdcut-scale", "huge", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gdcut-scale*invalid choice*'huge'*"])


def test_unreadable_registry_option_is_a_usage_error(project):
    result = project.runpytest("--gdcut-registry", str(MISSING_PATH / "claims.toml"), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gdcut-registry: path *no-such-directory/claims.toml*"])


@pytest.mark.skipif(not fashion_present, reason="Fashion-MNIST not installed")
def test_missing_cifar10_directory_is_a_usage_error_and_an_empty_one_makes_the_claim_not_run(project):
    """As claims/test_deep_*.py load data: DataUnavailable becomes a skip whose reason names the option."""
    (project.path / "claims" / "test_deep.py").write_text(
        "import pytest\nfrom gdcut import data as gdata\n\n"
        "@pytest.mark.claim('C5')\n"
        "def test_deep(run_settings):\n"
        "    try:\n"
        "        gdata.for_run(run_settings, 8, 8)\n"
        "    except gdata.DataUnavailable as missing:\n"
        "        pytest.skip(f'not run: {missing}')\n")
    # A directory that does not exist is a typo: a usage error naming the option, before anything runs.
    result = project.runpytest("--gdcut-cifar10", str(MISSING_PATH), "--gdcut-reports", str(project.path / "out"),
                               "-p", "no:cacheprovider", "-rs")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--gdcut-cifar10: {MISSING_PATH} is not a directory" in result.stderr.str()
    # A directory without CIFAR-10 in it: the claim is not run, and the reason names the option.
    empty = project.mkdir("empty")
    result = project.runpytest("--gdcut-cifar10", str(empty), "--gdcut-reports", str(project.path / "out"),
                               "-p", "no:cacheprovider", "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*SKIPPED*not run: cifar_dir*--gdcut-cifar10*"])
