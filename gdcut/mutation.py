"""Mutation checks: does the suite notice when gdcut is deliberately wrong?

Each :class:`Mutant` replaces one attribute of a gdcut module with a wrong
implementation of the kind a careless reimplementation of the paper would
contain.  The runner re-runs the claims the mutant should disturb, in a
subprocess with ``GDCUT_MUTANT=<name>`` (the plugin applies the mutant before
any test module imports gdcut), and calls the mutant *killed* when a test
fails or a claim's verdict moves away from the unmutated baseline.

    python -m gdcut.mutation                  # every mutant
    python -m gdcut.mutation --mutant NAME    # one (repeatable); --list shows them
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gdcut import validation

ENV_VAR = "GDCUT_MUTANT"


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    target: str  # "module:attribute"
    replace: Callable[[object], object]  # original -> wrong replacement
    claims: tuple[str, ...]  # the claims that should notice
    gpu: bool = False  # needs the deep-net (smoke-scale) claims


# --------------------------------------------------------------------------- wrong implementations
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

    def rmsprop_torch(lr, alpha=0.99, eps=1e-8):
        return rmsprop_paper(lr, alpha, eps)
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
    def l1_penalty(beta, lambda1):
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
]}


def apply(name: str) -> Mutant:
    """Install mutant ``name`` in its module (done by the plugin in every pytest process)."""
    if name not in MUTANTS:
        raise ValueError(f"{ENV_VAR} must name a known mutant ({', '.join(MUTANTS)}), got {name!r}")
    mutant = MUTANTS[name]
    module_name, attribute = mutant.target.split(":")
    module = importlib.import_module(module_name)
    setattr(module, attribute, mutant.replace(getattr(module, attribute)))
    return mutant


# --------------------------------------------------------------------------- runner
def _run_claims(claims: tuple[str, ...], reports: Path, mutant: str | None, root: Path, extra: list[str]) -> tuple[int, dict]:
    environment = dict(os.environ)
    environment.pop(ENV_VAR, None)
    if mutant:
        environment[ENV_VAR] = mutant
    command = [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider", "--gdcut-reports",
               str(reports), *[arg for claim in claims for arg in ("--claim", claim)], *extra]
    if mutant:
        # A mutant's training results must never land in the real result cache, where
        # an unmutated run would later read them as its own.
        command += ["--gdcut-cache", str(reports / "cache")]
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    ledger_path = reports / "ledger.json"
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {"claims": []}
    return done.returncode, {c["id"]: c["verdict"] for c in ledger["claims"] if c["id"] in claims}


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
        code, baseline = _run_claims(claims, scratch / "baseline", None, root, list(extra))
        if code != 0 or "unexpected" in baseline.values():
            raise RuntimeError(f"the unmutated baseline must pass before mutants mean anything (exit {code}, {baseline})")
        log(f"baseline: {len(claims)} claims in {time.monotonic() - started:.0f} s")
        results = []
        for mutant in mutants:
            started = time.monotonic()
            code, verdicts = _run_claims(mutant.claims, scratch / mutant.name, mutant.name, root, list(extra))
            moved = {c: f"{baseline[c]} -> {verdicts.get(c)}" for c in mutant.claims if verdicts.get(c) != baseline[c]}
            killed = code != 0 or bool(moved)
            results.append({"mutant": mutant.name, "description": mutant.description, "killed": killed,
                            "pytest_exit": code, "verdicts_moved": moved, "seconds": round(time.monotonic() - started, 1)})
            log(f"{'killed  ' if killed else 'SURVIVED'} {mutant.name}: exit {code}, {moved or 'no verdict moved'}")
    killed = sum(r["killed"] for r in results)
    return {"score": killed / len(results) if results else None, "killed": killed, "total": len(results),
            "survivors": [r["mutant"] for r in results if not r["killed"]], "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gdcut.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutant", action="append", default=[], help="run only this mutant (repeatable)")
    parser.add_argument("--no-gpu", action="store_true", help="skip mutants that need the deep-net claims")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
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
    print(f"mutation score {report['killed']}/{report['total']}; survivors: {report['survivors'] or 'none'}")
    return 0 if not report["survivors"] else 1


if __name__ == "__main__":
    sys.exit(main())
