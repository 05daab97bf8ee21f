"""Context statements (v2 §1, §3, §4): claim X2.

X1 and X3 cite external documents that cannot be read offline; the registry
marks them not testable with the reason.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.fast

DTYPE = torch.float64


#: Dropout rates swept (the paper names none); 0.5 is torch's default.
RATES = (0.1, 0.5, 0.9)


def _network(seed: int, p: float = 0.5) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Dropout(p=p), torch.nn.Linear(4, 1)).to(DTYPE)


def _inputs():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, generator=generator, dtype=DTYPE), torch.randn(8, 1, generator=generator, dtype=DTYPE)


def _loss_with_fixed_mask(network, x, y, mask_seed: int) -> float:
    torch.manual_seed(mask_seed)  # the same dropout mask on every evaluation
    with torch.no_grad():
        return float(((network(x) - y) ** 2).mean())


@pytest.mark.claim("X2", refutes=True)
def test_dropout_loss_is_continuous_in_the_parameters(evidence):
    """For a fixed mask the dropout loss is continuous (Lipschitz here) in the weights, at every dropout rate."""
    evidence.condition("torch.nn.Dropout in training mode inside a 3-4-1 tanh network, float64, the mask held fixed: "
                       "the training loss as a function of the weights")
    evidence.swept("dropout rate p", [f"{p:g}" for p in RATES])
    rows, deterministic = [], []
    for p in RATES:
        network = _network(0, p)
        network.train()
        x, y = _inputs()
        base = _loss_with_fixed_mask(network, x, y, mask_seed=7)
        deterministic.append(base == _loss_with_fixed_mask(network, x, y, mask_seed=7))
        direction = [torch.randn_like(w) for w in network.parameters()]
        ratios = {}
        for epsilon in (1e-1, 1e-3, 1e-5, 1e-7):
            with torch.no_grad():
                for parameter, step in zip(network.parameters(), direction):
                    parameter.add_(epsilon * step)
            moved = _loss_with_fixed_mask(network, x, y, mask_seed=7)
            with torch.no_grad():
                for parameter, step in zip(network.parameters(), direction):
                    parameter.sub_(epsilon * step)
            ratios[epsilon] = abs(moved - base) / epsilon
        rows.append([p] + [f"{ratios[e]:.4g}" for e in sorted(ratios, reverse=True)])
        # A jump would make |ΔL|/ε blow up like 1/ε; a continuous, differentiable loss keeps it near |directional
        # derivative|.
        assert max(ratios.values()) < 10 * ratios[1e-7] + 1e-6
        assert ratios[1e-5] == pytest.approx(ratios[1e-7], rel=1e-3)
    evidence.premise("with the mask held fixed the loss is one function of the weights (two evaluations at the "
                     "same weights agree exactly)", all(deterministic))
    evidence.table("|ΔL|/ε along a random direction, mask fixed: bounded as ε → 0 (a jump would grow like 1/ε)",
                   header=["p", "ε = 0.1", "ε = 1e-3", "ε = 1e-5", "ε = 1e-7"], rows=rows)
    evidence.measure("largest |ΔL|/ε over ε and p (a Lipschitz ratio)", max(float(v) for r in rows for v in r[1:]),
                     paper=None, condition="bounded ratio: continuous (Lipschitz) along the direction")


def _expected_loss(network, x, y, p: float) -> torch.Tensor:
    """E[L] over all 2^4 masks of the hidden layer, each weighted by its probability (inverted dropout: 1/(1−p))."""
    first, activation, _, last = network
    hidden = activation(first(x))
    total = torch.zeros((), dtype=DTYPE)
    for mask in itertools.product((0.0, 1.0), repeat=4):
        weight = float(np.prod([(1 - p) if kept else p for kept in mask]))
        scaled = torch.tensor(mask, dtype=DTYPE) / (1 - p)
        total = total + weight * ((last(hidden * scaled) - y) ** 2).mean()
    return total


@pytest.mark.claim("X2", refutes=True)
def test_expected_dropout_loss_is_smooth(evidence):
    """The expected loss over all 2^4 masks: autograd and finite differences agree, at every dropout rate."""
    evidence.condition("the exact expectation over all 16 dropout masks of a 4-unit hidden layer, float64: the "
                       "expected training loss as a function of the weights")
    evidence.swept("dropout rate p", [f"{p:g}" for p in RATES])
    rows, matches = [], []
    for p in RATES:
        network = _network(3, p)
        x, y = _inputs()
        first = network[0]
        loss = _expected_loss(network, x, y, p)
        (gradient,) = torch.autograd.grad(loss, first.weight)
        h = 1e-6
        with torch.no_grad():
            first.weight[0, 0] += h
            plus = float(_expected_loss(network, x, y, p))
            first.weight[0, 0] -= 2 * h
            minus = float(_expected_loss(network, x, y, p))
            first.weight[0, 0] += h
        central = (plus - minus) / (2 * h)
        assert central == pytest.approx(float(gradient[0, 0]), rel=1e-6, abs=1e-9)
        # The enumerated expectation is the network's own: torch's Dropout in training mode, averaged over masks.
        network.train()
        torch.manual_seed(11)
        with torch.no_grad():
            sampled = torch.stack([((network(x) - y) ** 2).mean() for _ in range(4000)])
        spread = float(sampled.std() / np.sqrt(len(sampled)))
        matches.append(abs(float(sampled.mean()) - float(loss)) < 5 * spread)
        rows.append([p, f"{abs(central - float(gradient[0, 0])):.1e}", f"{float(loss):.4f}",
                     f"{float(sampled.mean()):.4f} ± {spread:.4f}"])
    evidence.premise("the enumerated expectation is torch Dropout's own (the mean of 4000 draws within 5 standard "
                     "errors)", all(matches))
    evidence.table("Expected loss: autograd vs central difference, and enumeration vs torch's Dropout",
                   header=["p", "|∂E[L]/∂w₀₀ error|", "E[L] enumerated", "mean of 4000 draws"], rows=rows)
    evidence.measure("largest |autograd − central difference| of ∂E[L]/∂w₀₀", max(float(r[1]) for r in rows),
                     paper=None)
    evidence.note("Dropout makes each step's loss a random function of the weights (a fresh mask per step), so"
                  " training with dropout is a stochastic method; but for every mask, and in expectation, the loss is"
                  " continuous in the weights. 'Discontinuous' does not describe it; what dropout brings is"
                  " randomness.")
