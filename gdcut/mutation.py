"""Mutation checks: does the suite notice when gdcut is deliberately wrong?

Each :class:`Mutant` replaces one attribute of a gdcut module with a wrong
implementation of the kind a careless reimplementation of the paper would
contain.  The runner re-runs the claims the mutant should disturb, in a
pytest subprocess with this module as a plugin (``-p gdcut.mutation
--gdcut-mutant=NAME``: it installs the mutant in ``pytest_configure``, before
any test module imports gdcut), and calls the mutant *killed* when a test
fails, a claim's verdict moves away from the unmutated baseline, or one of
the mutant's ``checks`` (planted cases among the tests of gdcut) fails.

    python -m gdcut.mutation                  # every mutant
    python -m gdcut.mutation --mutant NAME    # one (repeatable); --list shows them
    python -m gdcut.mutation --no-gpu --by-test   # also: per refuting test, the mutants that kill it
    pytest -p gdcut.mutation --gdcut-mutant=NAME claims ...   # one mutant by hand

A mutant kills a *test* when that test's outcome, what it counts as on the
ledger (``gdcut.ledger.verdict.COUNTS``), one of its
decisions or what one of its cells counts as differs from the baseline's: a refutation turned inconclusive by a
failed certificate is a kill, and so is a flipped decision. A mutant is killed
when pytest fails, a verdict moves, it kills a test, or one of its checks fails.
"""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from gdcut import validation

OPTION = "--gdcut-mutant"


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    target: str  # "module:attribute"
    replace: Callable[[object], object]  # original -> wrong replacement
    claims: tuple[str, ...]  # the claims that should notice
    gpu: bool = False  # needs the deep-net (smoke-scale) claims
    #: Tests of gdcut itself that must fail under the mutant: a rulebook rule that no real claim happens to
    #: need in this run (every refutation swept, say) is still caught by its planted case.
    checks: tuple[str, ...] = ()


# --------------------------------------------------------------------------- wrong implementations
def _rule_dropped(which: str):
    """A rulebook whose rule ``which`` (a field of ``verdict.Facts``) is not applied: the facts lose it first."""
    def mutate(original):
        from dataclasses import replace

        def rule_cell(pointing, facts, book):
            return original(pointing, replace(facts, **{which: FORGOTTEN[which]}), book)
        return rule_cell
    return mutate


#: The planted case of each rule, run through the real plugin (tests/test_rulebook.py).
PLANTED = ("tests/test_rulebook.py::test_each_rule_on_its_planted_case",)

#: What a rulebook that forgets a rule reads in place of the recorded facts.
FORGOTTEN = {"failed_premises": (), "saturated": (), "certificates": (True,), "arithmetic": ""}


def _sweeps_ignored(original):
    """A rulebook that takes every declared open parameter as swept (rule 5 dropped)."""
    from dataclasses import replace

    def rule_cell(pointing, facts, book):
        return original(pointing, facts, replace(book, open_parameters=()))
    return rule_cell


def _sign_of_zero_is_one(original):
    def l1_subgradient(beta, lambda1):
        return lambda1 * np.where(beta >= 0, 1, -1)
    return l1_subgradient


def _momentum_wrong_sign(original):
    from gdcut import validation
    from gdcut.recursions import UpdateRule

    def heavy_ball(alpha, eta):
        validation.positive("alpha", alpha)

        def update(grad, previous_delta, beta):
            delta = -alpha * (1 - eta) * grad - eta * previous_delta
            return delta, delta
        return UpdateRule(lambda beta: beta * 0, update)
    return heavy_ball


def _momentum_no_damping_factor(original):
    """Drops eq. 16's (1 - η): the step becomes α·g instead of α(1-η)·g."""
    def heavy_ball(alpha, eta):
        return original(alpha / (1 - eta), eta)
    return heavy_ball


def _rmsprop_eps_outside_root(original):
    from gdcut.recursions import rmsprop_torch

    def rmsprop_paper(alpha, gamma=0.99, eps_bar=1e-8):
        return rmsprop_torch(alpha, gamma, eps_bar)
    return rmsprop_paper


def _rmsprop_eps_inside_root(original):
    from gdcut.recursions import rmsprop_paper

    def rmsprop_torch(lr, smoothing=0.99, eps=1e-8):
        return rmsprop_paper(lr, smoothing, eps)
    return rmsprop_torch


def _huber_threshold_shifted(original):
    def huber_loss(beta, Z, y, delta=1.0):
        return original(beta, Z, y, delta + 0.5)
    return huber_loss


def _ridge_term_dropped(original):
    def relu_regression_loss(beta, Z, y, lambda1, lambda2, relu=None):
        kwargs = {} if relu is None else {"relu": relu}
        return original(beta, Z, y, lambda1, 0.0, **kwargs)
    return relu_regression_loss


def _smooth_l1_penalty(original):
    """sqrt(β² + ε) in place of |β|: differentiable, so 0 is no longer a kink."""
    import torch

    def l1_penalty(beta, lambda1):
        lambda1 = lambda1.squeeze(-1) if isinstance(lambda1, torch.Tensor) else lambda1  # a column: one λ1 per row
        return lambda1 * (beta**2 + 1e-12).sqrt().sum(dim=-1)
    return l1_penalty


def _smooth_l1_gradient_in_training(original):
    import torch

    def add_l1_subgradient_(params, lambda1, bucket_elements=1 << 24):
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            p.grad.add_(lambda1 * p.detach() / (p.detach() ** 2 + 1e-12).sqrt())
    return add_l1_subgradient_


def _activation_switch_ignored(original):
    return {name: original["relu"] for name in original}


def _sklearn_scaling_forgotten(original):
    """Passes λ1 to scikit-learn's Lasso as its alpha, forgetting its 1/(2N) scaling."""
    def sklearn_optimum(W, y, lambda1, **kwargs):
        return original(W, y, 2 * lambda1, **kwargs)
    return sklearn_optimum


# Issue 10: mutants that break a counterexample: a wrong limit, an unconverged run passed off as converged,
# a premise dropped. Each refuting test in claims/ (deep nets aside) is killed by at least one of these.
def _relu_as_half_sum(original):
    """max(0, x) written (x + |x|)/2: autograd's derivative at 0 becomes 1/2 (abs' (0) = 0)."""
    return {**original, "relu": lambda x: (x + x.abs()) / 2}


def _relu_spellings_collapsed(original):
    """Every spelling of max(0, ·) built with torch.relu: the premise 'spellings differ at the kink' dropped."""
    return {name: original["relu"] for name in original}


def _oscillation_start_early(original):
    """N0 read two steps early: the run is stopped before every entry is 2-periodic (an unconverged 'limit')."""
    def oscillation_start(beta0, alpha, lambda1):
        return max(original(beta0, alpha, lambda1) - 2, 0)
    return oscillation_start


def _cycle_half_read(original):
    """The limsup read over the first half of the cycle: too short a window passed off as the whole limit."""
    from gdcut.convex import Cycle

    def max_affine_cycle(rows, start, max_steps=10_000):
        cycle = original(rows, start, max_steps)
        return None if cycle is None else Cycle(cycle.gaps[: max(1, len(cycle.gaps) // 2)], cycle.transient,
                                                cycle.period)
    return max_affine_cycle


def _search_accepts_anything(original):
    """The search returns its first admissible instance, whatever its ratio (a 'find' that found nothing)."""
    import time

    from hypothesis import assume, given, settings

    def find_counterexample(admissible, instances, ratio):
        found = []

        @settings(database=None, max_examples=50)
        @given(instance=instances)
        def search(instance):
            assume(admissible(*instance))
            found.append(instance)

        started = time.monotonic()
        search()
        return (found[0], time.monotonic() - started) if found else None
    return find_counterexample


def _huber_smoothness_halved(original):
    def huber_smoothness(Z):
        return original(Z) / 2
    return huber_smoothness


def _huber_without_linear_piece(original):
    """½r² everywhere: the Huber loss's linear region (and its sub-quadratic growth) dropped."""
    def huber_loss(beta, Z, y, delta=1.0):
        residual = y - beta @ Z.T
        return (0.5 * residual**2).mean(-1)
    return huber_loss


def _iterations_squared(original):
    def iterations_to_accuracy(gaps, accuracy):
        found = original(gaps, accuracy)
        return None if found is None else found * found
    return iterations_to_accuracy


def _unbounded_lp_reported_as_zero(original):
    """An unbounded max-affine LP reported as a minimum 0 at the origin (the 'finite minimum' premise faked)."""
    def max_affine_minimum(A, b):
        try:
            return original(A, b)
        except ValueError:
            return 0.0, np.zeros(np.asarray(A).shape[1])
    return max_affine_minimum


def _rmsprop_without_eps(original):
    """torch's RMSprop with eps = 0: the regime where eps dominates a small λ1 disappears."""
    import torch

    return {**original, "rmsprop": lambda params, lr, **kw: torch.optim.RMSprop(params, lr=lr, **{**kw, "eps": 0.0})}


def _starts_inside_the_unit_ball(original):
    """β0 ~ U[−0.01, 0.01]: the non-capture instance moved inside Prop 3.1's ball (its premise changed)."""
    def non_capture_instance(seed, rows=20, columns=500, dtype=None):
        import torch

        Z1, q1, beta0 = original(seed, rows, columns, dtype=dtype or torch.float64)
        return Z1, q1, beta0 / (100 * np.sqrt(columns))
    return non_capture_instance


def _dtype_ignored(original):
    """Every torch run made in float64, whatever the dtype of β0: the 16-bit rounding behind L1/L5's caveats is gone."""
    def run_optimiser(loss_fn, x0, *args, **kwargs):
        return original(loss_fn, x0.double(), *args, **kwargs)
    return run_optimiser


def _exact_zeros_unrecorded(original):
    """torch runs that never record an exact 0 along the way (only the end state is looked at)."""
    import dataclasses

    import torch

    def run_optimiser(*args, **kwargs):
        run = original(*args, **kwargs)
        if run.ever_zero is None:
            return run
        return dataclasses.replace(run, ever_zero=torch.zeros_like(run.ever_zero))
    return run_optimiser


def _unanimity_inverted(original):
    """Each sample's yes read as no: a rule that decides the opposite of what it measured."""
    def unanimity_rule(outcomes, *args, **kwargs):
        return original([None if o is None else not o for o in outcomes], *args, **kwargs)
    return unanimity_rule


def _sgd_half_step(original):
    """torch SGD runs taken with half the step size they were given."""
    def run_optimiser(loss_fn, x0, optimiser, lr, steps, **kwargs):
        if optimiser == "sgd":
            lr = lr / 2 if isinstance(lr, (int, float)) else np.asarray(lr, dtype=np.float64) / 2
        return original(loss_fn, x0, optimiser, lr, steps, **kwargs)
    return run_optimiser


def _dropout_without_rescale(original):
    """Dropout that zeroes units but forgets inverted dropout's 1/(1 − p) rescaling of the kept ones."""
    class Dropout(original):
        def forward(self, x):
            return original.forward(self, x) * (1 - self.p) if self.training else x
    return Dropout


def _dropout_mask_ignores_seed(original):
    """Dropout drawing its mask from a private generator: reseeding no longer fixes the mask."""
    import torch

    class Dropout(original):
        generator = torch.Generator().manual_seed(0)

        def forward(self, x):
            if not self.training:
                return x
            keep = (torch.rand(x.shape, generator=self.generator) >= self.p).to(x.dtype)
            return x * keep / (1 - self.p)
    return Dropout


def _ndgm_horizon_fixed(original):
    """L6's runs stopped at a fixed 2·10^4 steps (the old table's horizon), not the closed form's."""
    def ndgm_horizon(beta0, alpha, lambda1):
        return 20_000
    return ndgm_horizon


MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("sign-zero-is-one", "NDGM's subgradient of |β| taken as +1 at β = 0 (zero no longer absorbing)",
           "gdcut.recursions:l1_subgradient", _sign_of_zero_is_one, ("L1", "L2", "L13", "L15")),
    Mutant("momentum-wrong-sign", "eq. 16 with -η(β_N - β_{N-1}) instead of +η",
           "gdcut.recursions:heavy_ball", _momentum_wrong_sign, ("L11", "L15")),
    Mutant("momentum-no-1-minus-eta", "eq. 16 without its (1 - η) factor on the gradient",
           "gdcut.recursions:heavy_ball", _momentum_no_damping_factor, ("L11", "L15")),
    Mutant("rmsprop-eps-outside-root", "the paper's RMSProp (eq. 19) with ε added after the square root",
           "gdcut.recursions:rmsprop_paper", _rmsprop_eps_outside_root, ("L12", "L13", "L14", "L15")),
    Mutant("rmsprop-eps-inside-root", "torch's RMSprop rule with ε added under the square root",
           "gdcut.recursions:rmsprop_torch", _rmsprop_eps_inside_root, ("L12", "L13", "L14", "L15")),
    Mutant("huber-threshold-shifted", "Huber's switch from quadratic to linear at 1.5 instead of 1",
           "gdcut.losses:huber_loss", _huber_threshold_shifted, ("E1", "E3", "E4", "E5")),
    Mutant("ridge-term-dropped", "eq. 3 without its λ2‖β‖² term",
           "gdcut.losses:relu_regression_loss", _ridge_term_dropped, ("S1", "C1", "C7")),
    Mutant("smooth-l1-penalty", "λ1‖β‖₁ computed as λ1Σ√(β²+ε): autograd then never returns 0 at 0",
           "gdcut.losses:l1_penalty", _smooth_l1_penalty, ("L1", "L10", "L13", "L15")),
    Mutant("sklearn-scaling-forgotten", "scikit-learn's Lasso given λ1 instead of λ1/2 as alpha",
           "gdcut.lasso:sklearn_optimum", _sklearn_scaling_forgotten, ("L7", "L21")),
    Mutant("smooth-l1-gradient-in-training", "deep-net L1 gradient from a smooth surrogate of |w|",
           "gdcut.train:add_l1_subgradient_", _smooth_l1_gradient_in_training, ("L19", "L20"), gpu=True),
    Mutant("activation-switch-ignored", "ReLU/GELU switch that builds ReLU either way",
           "gdcut.models:ACTIVATIONS", _activation_switch_ignored, ("C5", "C6"), gpu=True),
    Mutant("relu-as-half-sum", "max(0, x) written (x + |x|)/2 (derivative 1/2 at the kink)",
           "gdcut.losses:RELU_VARIANTS", _relu_as_half_sum, ("S2",)),
    Mutant("relu-spellings-collapsed", "every spelling of max(0, ·) is torch.relu (premise of S2's kink test dropped)",
           "gdcut.losses:RELU_VARIANTS", _relu_spellings_collapsed, ("S2",)),
    Mutant("oscillation-start-early", "N0 two steps early: an unconverged orbit passed off as the 2-cycle",
           "gdcut.closed_forms:oscillation_start", _oscillation_start_early, ("L2", "L4")),
    Mutant("cycle-half-read", "E1's limsup read over half the certified cycle (a window short of the limit)",
           "gdcut.convex:max_affine_cycle", _cycle_half_read, ("E1",)),
    Mutant("search-accepts-anything", "the counterexample search returns an instance without checking ratio > 1",
           "gdcut.search:find_counterexample", _search_accepts_anything, ("E1", "L4")),
    Mutant("huber-smoothness-halved", "L = λmax(ZᵀZ)/(2N): a wrong smoothness constant (wrong limit of the quotient)",
           "gdcut.convex:huber_smoothness", _huber_smoothness_halved, ("E4", "E5", "E6")),
    Mutant("huber-without-linear-piece", "the Huber loss as ½r² everywhere (premise 'linear far from 0' dropped)",
           "gdcut.losses:huber_loss", _huber_without_linear_piece, ("E5",)),
    Mutant("iterations-squared", "iterations to ε reported squared", "gdcut.convex:iterations_to_accuracy",
           _iterations_squared, ("C4",)),
    Mutant("unbounded-lp-as-zero", "an unbounded max-affine LP reported as a finite minimum 0",
           "gdcut.geometry:max_affine_minimum", _unbounded_lp_reported_as_zero, ("G3",)),
    Mutant("rmsprop-without-eps", "torch's RMSprop run with eps = 0", "gdcut.optimisers:OPTIMISERS",
           _rmsprop_without_eps, ("L13", "L14")),
    Mutant("starts-inside-unit-ball", "the non-capture β0 scaled into the unit ball of Prop 3.1",
           "gdcut.problems:non_capture_instance", _starts_inside_the_unit_ball, ("C1",)),
    Mutant("exact-zeros-unrecorded", "torch runs that do not record the exact zeros met along the way",
           "gdcut.runs:run_optimiser", _exact_zeros_unrecorded, ("L13",)),
    Mutant("unanimity-inverted", "a unanimity rule that reads each sample's yes as no", "gdcut.rules:unanimity_rule",
           _unanimity_inverted, ("C1", "E3")),
    Mutant("sgd-half-step", "torch SGD runs with half their step size", "gdcut.runs:run_optimiser", _sgd_half_step,
           ("C1",)),
    Mutant("dropout-without-rescale", "dropout without the 1/(1 − p) rescaling", "torch.nn:Dropout",
           _dropout_without_rescale, ("X2",)),
    Mutant("dropout-mask-ignores-seed", "dropout masks from a private generator (reseeding does not fix them)",
           "torch.nn:Dropout", _dropout_mask_ignores_seed, ("X2",)),
    Mutant("ndgm-horizon-fixed", "L6's NDGM runs stop at 2·10^4 steps, not at the closed-form horizon: small-α runs "
           "are read before their limit", "gdcut.lasso:ndgm_horizon", _ndgm_horizon_fixed, ("L6",)),
    Mutant("dtype-ignored", "torch runs made in float64 whatever β0's dtype", "gdcut.runs:run_optimiser",
           _dtype_ignored, ("L1", "L5")),
    # The rulebook itself (gdcut.ledger.verdict.rule_cell): each mutant forgets one rule, so a cell it
    # should set aside counts. A verdict that does not move under one of them does not rest on that rule.
    Mutant("premises-ignored", "the rulebook counts cells outside their premise (rule 1 dropped)",
           "gdcut.ledger.verdict:rule_cell", _rule_dropped("failed_premises"), ("L21", "S2"), checks=PLANTED),
    Mutant("bounds-ignored", "the rulebook counts a statistic at its floor or ceiling (rule 2 dropped)",
           "gdcut.ledger.verdict:rule_cell", _rule_dropped("saturated"), ("E3",), checks=PLANTED),
    Mutant("readings-count", "the rulebook counts a floating-point reading of an exact claim (rule 3 dropped)",
           "gdcut.ledger.verdict:rule_cell", _rule_dropped("arithmetic"), ("L1", "L5", "L13", "L16", "L17"),
           checks=PLANTED),
    Mutant("certificates-trusted", "the rulebook takes every limit cell as certified (rule 4 dropped)",
           "gdcut.ledger.verdict:rule_cell", _rule_dropped("certificates"), ("L2", "L4", "L6", "E1", "E5"),
           checks=PLANTED),
    Mutant("sweeps-ignored", "the rulebook takes every open parameter as swept (rule 5 dropped)",
           "gdcut.ledger.verdict:rule_cell", _sweeps_ignored, ("C1", "E3", "L6"), checks=PLANTED),
]}


def apply(name: str) -> Mutant:
    """Install mutant ``name`` in its module (``pytest_configure`` does it in every pytest process)."""
    if name not in MUTANTS:
        raise ValueError(f"{OPTION} must name a known mutant ({', '.join(MUTANTS)}), got {name!r}")
    mutant = MUTANTS[name]
    module_name, attribute = mutant.target.split(":")
    module = importlib.import_module(module_name)
    setattr(module, attribute, mutant.replace(getattr(module, attribute)))
    return mutant


# --------------------------------------------------------------------------- pytest plugin (-p gdcut.mutation)
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("gdcut").addoption(
        OPTION, metavar="NAME", default=None,
        help="install this deliberately wrong implementation before the tests import gdcut (python -m "
             "gdcut.mutation --list names them); the ledger's provenance records it")


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption(OPTION)
    if name is not None:
        try:
            apply(name)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None


# --------------------------------------------------------------------------- runner
def _run_claims(claims: tuple[str, ...], reports: Path, mutant: str | None, root: Path,
                extra: list[str]) -> tuple[int, dict, dict]:
    """(pytest's exit code, verdict per claim, {(claim, nodeid): (outcome, counts as, refutes, decisions)} per test)."""
    # option=value throughout: pytest reads a separate value that names an existing folder as a test path
    command = [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider", f"--gdcut-reports={reports}",
               *[f"--claim={claim}" for claim in claims], *extra]
    if mutant:
        # A mutant's training results must never land in the real result cache, where
        # an unmutated run would later read them as its own.
        command += ["-p", "gdcut.mutation", f"{OPTION}={mutant}", f"--gdcut-cache={reports / 'cache'}"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    ledger_path = reports / "ledger.json"
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {"claims": []}
    tests = {(c["id"], t["nodeid"]): (t["outcome"], t.get("counts_as", ""), t["refutes"], _decisions_of(c, t["nodeid"]),
                                      tuple((cell["condition"], cell["counts_as"]) for cell in t.get("cells", [])))
             for c in ledger["claims"] if c["id"] in claims for t in c["tests"]}
    return done.returncode, {c["id"]: c["verdict"] for c in ledger["claims"] if c["id"] in claims}, tests


def _run_checks(checks: tuple[str, ...], reports: Path, mutant: str, root: Path) -> int:
    """pytest's exit code for ``checks`` (tests of gdcut itself) with ``mutant`` installed."""
    command = [sys.executable, "-m", "pytest", *checks, "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               f"--gdcut-reports={reports}", "-p", "gdcut.mutation", f"{OPTION}={mutant}"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True).returncode


def _decisions_of(claim: dict, nodeid: str) -> tuple:
    """The (condition, decision) cells a test recorded on a claim's card: a flipped decision is a kill too."""
    return tuple(sorted((cell["condition"], cell["decision"]) for group in claim.get("decisions", [])
                        for cell in group["cells"] if cell["test"] == nodeid))


def run_mutants(names: list[str], root: Path, extra: list[str] = (), log=print) -> dict:
    """Baseline, then each mutant; returns the report (also what ``main`` writes to JSON)."""
    for name in names:
        validation.one_of("names", name, MUTANTS)
    root = validation.directory("root", root)
    mutants = [MUTANTS[name] for name in names]
    claims = tuple(sorted({claim for m in mutants for claim in m.claims}))
    with tempfile.TemporaryDirectory(prefix="gdcut-mutation-") as scratch:
        scratch = Path(scratch)
        started = time.monotonic()
        code, baseline, baseline_tests = _run_claims(claims, scratch / "baseline", None, root, list(extra))
        if code != 0 or "unexpected" in baseline.values():
            raise RuntimeError(f"the unmutated baseline must pass before mutants mean anything (exit {code}, {baseline})")
        log(f"baseline: {len(claims)} claims in {time.monotonic() - started:.0f} s")
        results = []
        for mutant in mutants:
            started = time.monotonic()
            code, verdicts, tests = _run_claims(mutant.claims, scratch / mutant.name, mutant.name, root, list(extra))
            moved = {c: f"{baseline[c]} -> {verdicts.get(c)}" for c in mutant.claims if verdicts.get(c) != baseline[c]}
            # Tests of the mutant's claims whose outcome, count, decisions or cells' counts moved (a test missing from
            # the run too).
            tests_killed = sorted({nodeid for (claim, nodeid), before in baseline_tests.items()
                                   if claim in mutant.claims and tests.get((claim, nodeid)) != before})
            checks_exit = _run_checks(mutant.checks, scratch / f"{mutant.name}-checks", mutant.name, root) \
                if mutant.checks else 0
            killed = code != 0 or bool(moved) or bool(tests_killed) or checks_exit != 0
            results.append({"mutant": mutant.name, "description": mutant.description, "killed": killed,
                            "pytest_exit": code, "verdicts_moved": moved, "tests_killed": tests_killed,
                            "checks": list(mutant.checks), "checks_exit": checks_exit,
                            "seconds": round(time.monotonic() - started, 1)})
            log(f"{'killed  ' if killed else 'SURVIVED'} {mutant.name}: exit {code}, {moved or 'no verdict moved'}, "
                f"{len(tests_killed)} test(s) moved" + (f", planted checks exit {checks_exit}" if mutant.checks else ""))
    killed = sum(r["killed"] for r in results)
    by_test = {nodeid: [r["mutant"] for r in results if nodeid in r["tests_killed"]]
               for (_, nodeid), (_, _, refutes, *_) in sorted(baseline_tests.items()) if refutes}
    return {"score": killed / len(results) if results else None, "killed": killed, "total": len(results),
            "survivors": [r["mutant"] for r in results if not r["killed"]], "results": results,
            "by_test": by_test}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gdcut.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutant", action="append", default=[], help="run only this mutant (repeatable)")
    parser.add_argument("--no-gpu", action="store_true", help="skip mutants that need the deep-net claims")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--by-test", action="store_true", help="print, per refuting test, the mutants that kill it")
    parser.add_argument("--output", default="reports/mutation.json", help="where to write the report")
    options = parser.parse_args(argv)
    if options.list:
        for mutant in MUTANTS.values():
            print(f"{mutant.name:32} {mutant.target:40} claims {', '.join(mutant.claims)}")
        return 0
    unknown = [name for name in options.mutant if name not in MUTANTS]
    if unknown:
        parser.error(f"--mutant: unknown {unknown}; see --list")
    names = options.mutant or [m.name for m in MUTANTS.values() if not (options.no_gpu and m.gpu)]
    report = run_mutants(names, Path(__file__).resolve().parents[1])
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1))
    if options.by_test:
        for nodeid, killers in report["by_test"].items():
            print(f"{nodeid}\n    {', '.join(killers) if killers else 'NOT KILLED by any mutant run'}")
    print(f"mutation score {report['killed']}/{report['total']}; survivors: {report['survivors'] or 'none'}")
    return 0 if not report["survivors"] else 1


if __name__ == "__main__":
    sys.exit(main())
