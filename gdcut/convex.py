"""Gradient and subgradient methods on convex losses, and the classical guarantees they are held to.

Used by the convergence claims (v1 §2, v2 §3: C1-C4) and the Edge-of-Stability
claims (v1 §4, v2 §5 and App. D: E1-E5), which run the methods through
``gdcut.runs``.  ``gradient_method`` is the hand-written reference that
tests/test_runs.py holds that runner to: it differentiates the real loss with
autograd, so at a kink it takes whatever subgradient torch returns, which is
NDGM (v2 eq. 2), and on a convex loss the subgradient method.  Trials are rows
of ``x0``; the loss must return one value per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from gdcut import validation


@dataclass
class Trajectory:
    """A run of ``x_{k+1} = x_k - alpha_k g_k``.

    ``losses``: (steps + 1, trials), f(x_0) ... f(x_steps).  ``gradient_norms``:
    (steps, trials), ||g_k||_2 for the step taken at x_k.  ``iterates``: every
    ``keep_every``-th iterate (including x_0), shape (kept, trials, P).
    ``step_sizes``: (steps,) the alpha_k used.
    """

    losses: torch.Tensor
    gradient_norms: torch.Tensor
    iterates: torch.Tensor
    step_sizes: torch.Tensor


def gradient_method(loss_fn: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, alpha,
                    steps: int, keep_every: int | None = None) -> Trajectory:
    """Run GD / NDGM / the subgradient method (v2 eq. 1, 2, 4) with autograd's (sub)gradient.

    ``alpha`` is a constant step or one step per iteration (diminishing steps,
    eq. 4).  Written out rather than through ``torch.optim``, as the reference
    that ``gdcut.runs.run_optimiser`` is tested against.
    """
    keep_every = steps if keep_every is None else keep_every
    rates = torch.as_tensor(np.broadcast_to(np.asarray(alpha, dtype=np.float64), (steps,)).copy())
    x = x0.detach().clone()
    losses, norms, kept = [], [], [x.clone()]
    for k in range(steps + 1):
        x.requires_grad_(True)
        loss = loss_fn(x)
        losses.append(loss.detach())
        if k == steps:
            break
        (grad,) = torch.autograd.grad(loss.sum(), x)
        norms.append(grad.norm(dim=-1))
        x = (x.detach() - rates[k].to(x.dtype) * grad)
        if (k + 1) % keep_every == 0:
            kept.append(x.clone())
    return Trajectory(torch.stack(losses), torch.stack(norms), torch.stack(kept), rates)


# --------------------------------------------------------------------------- classical guarantees
# The bounds and constants below are closed forms that the claims call with numbers a run or a problem
# builder produced (already checked there), so they do not re-check their arguments.
def best_iterate_bound(initial_distance, gradient_norms, step_sizes) -> np.ndarray:
    """Subgradient method: min_{i<=k} f(x_i) - f* <= (R^2 + sum alpha_i^2 ||g_i||^2) / (2 sum alpha_i).

    Boyd, Xiao & Mutapcic (2003) §2, the result v1 §2 / v2 §3 cite for O(1/eps^2).
    With ||g_i|| <= G it gives (R^2 + G^2 sum alpha_i^2) / (2 sum alpha_i); passing the
    observed norms is the sharper form that the same proof gives, and it needs no
    global Lipschitz constant (the eq. 3 loss has none).  Returns shape (steps, ...):
    entry k-1 bounds min f(x_i) - f* over x_0..x_{k-1}, the iterates the first k
    steps were taken from.
    """
    norms = np.asarray(gradient_norms, dtype=np.float64)
    rates = np.asarray(step_sizes, dtype=np.float64).reshape((-1,) + (1,) * (norms.ndim - 1))
    radius = np.asarray(initial_distance, dtype=np.float64)
    return (radius**2 + np.cumsum(rates**2 * norms**2, axis=0)) / (2 * np.cumsum(rates, axis=0))


def gd_smooth_bound(smoothness, initial_distance, steps: int) -> np.ndarray:
    """GD with step 1/L on an L-smooth convex f: f(x_k) - f* <= L ||x_0 - x*||^2 / (2k), k = 1..steps.

    The O(1/eps) rate of v1 §2 / v2 §3 (Tibshirani 2015, §6-7 lecture notes).
    """
    radius = np.asarray(initial_distance, dtype=np.float64)
    k = np.arange(1, steps + 1, dtype=np.float64).reshape((-1,) + (1,) * radius.ndim)
    return smoothness * radius**2 / (2 * k)


def constant_step_limsup_bound(alpha, lipschitz) -> float:
    """The bound v1 Prop 4.1 / v2 Prop 5.1 (App. D.1) states: lim f(x_k) - f* <= alpha L^2."""
    return alpha * lipschitz**2


def sharp_max_affine_limsup_bound(alpha, lipschitz, sharpness) -> float:
    """A limsup bound that does follow from the subgradient inequality, for sharp minima.

    If f(x) - f* >= mu ||x - x*|| (a sharp minimum, mu > 0) and ||g|| <= G, then
    ||x_{k+1} - x*||^2 <= ||x_k - x*||^2 - 2 alpha (f(x_k) - f*) + alpha^2 G^2 makes the
    distance shrink outside {f - f* <= alpha G^2 / 2}, a set inside the ball of radius
    alpha G^2 / (2 mu); one step leaves it by at most alpha G.  Hence eventually
    f(x_k) - f* <= G (alpha G^2 / (2 mu) + alpha G) = alpha G^2 (1 + G / (2 mu)).
    """
    return constant_step_limsup_bound(alpha, lipschitz) * (1 + lipschitz / (2 * sharpness))


def max_affine_sharpness(rows: np.ndarray) -> float:
    """μ of max_i a_iᵀx (zero intercepts, 0 in the interior of conv{a_i}): f(x) − f* ≥ μ‖x‖.

    μ = min over unit d of max_i a_iᵀd, the distance from 0 to the boundary of conv{a_i}
    (scipy.spatial.ConvexHull's facet offsets).
    """
    if rows.shape[1] == 1:
        return float(min(rows.max(), -rows.min()))
    from scipy.spatial import ConvexHull  # imported here: scipy.spatial costs a second at collection

    return float(-ConvexHull(rows).equations[:, -1].max())


# --------------------------------------------------------------------------- constants of the losses
def quadratic_top_eigenvalue(hessian) -> float:
    """eta, the largest eigenvalue of a symmetric Hessian (scipy.linalg.eigvalsh); GD's edge is 2/eta."""
    import scipy.linalg

    matrix = np.asarray(hessian, dtype=np.float64)
    return float(scipy.linalg.eigvalsh(matrix)[-1])


def huber_smoothness(Z) -> float:
    """Lipschitz constant of the gradient of the mean Huber loss (v2 eq. 10): lambda_max(Z^T Z) / N.

    The Huber loss has a Lipschitz gradient (it is L-smooth in the sense of v2 eq. 5)
    although it is not twice differentiable; this is also eta, the top Hessian
    eigenvalue wherever every residual lies in the quadratic region (e.g. at a
    zero-loss minimum).
    """
    matrix = np.asarray(Z, dtype=np.float64)
    return quadratic_top_eigenvalue(matrix.T @ matrix) / matrix.shape[0]


def huber_lipschitz_bounds(Z, delta: float = 1.0, sign_searches: int = 64, seed: int = 0) -> tuple[float, float]:
    """(lower, upper) bounds on the Lipschitz constant of the mean Huber loss (v2 eq. 6, eq. 10).

    grad = -(1/N) Z^T clip(r, -delta, delta), so L = (delta/N) max_{s in [-1,1]^N} ||Z^T s||.
    Upper: (delta / N) ||Z||_2 sqrt(N).  Lower: the best sign vector a greedy
    coordinate search finds (every sign pattern of r is reachable when Z has full row rank).
    """
    matrix = np.asarray(Z, dtype=np.float64)
    n = matrix.shape[0]
    upper = delta * np.linalg.norm(matrix, 2) * np.sqrt(n) / n
    rng = np.random.default_rng(seed)
    best = 0.0
    for _ in range(sign_searches):
        signs = rng.choice([-1.0, 1.0], size=n)
        improved = True
        while improved:
            improved = False
            for i in range(n):
                flipped = signs.copy()
                flipped[i] = -flipped[i]
                if np.linalg.norm(matrix.T @ flipped) > np.linalg.norm(matrix.T @ signs):
                    signs, improved = flipped, True
        best = max(best, float(np.linalg.norm(matrix.T @ signs)))
    return delta * best / n, float(upper)


# --------------------------------------------------------------------------- measurements on runs
def iterations_to_accuracy(gaps, accuracy) -> int | None:
    """First k with f(x_k) - f* <= accuracy (gaps of one run, shape (steps + 1,)); None if never."""
    validation.positive("accuracy", accuracy)
    values = np.asarray(gaps, dtype=np.float64)
    validation.finite_array("gaps", values, ndim=1)
    hits = np.flatnonzero(values <= accuracy)
    return int(hits[0]) if hits.size else None


def power_law_exponent(x, y) -> float:
    """Slope of log y against log x by least squares: y ~ x^slope."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    for name, values in (("x", xs), ("y", ys)):
        validation.finite_array(name, values, ndim=1)
        if values.size < 2 or not np.all(values > 0):
            raise ValueError(f"{name} must hold at least 2 numbers, all > 0")
    validation.same_length("x", xs.size, "y", ys.size)
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def oscillation_rate(losses) -> float:
    """How fast a loss curve oscillates: the share of steps at which its direction flips.

    Counts k with (f_{k+1} - f_k)(f_k - f_{k-1}) < 0 over the curve, divided by the
    number of such triples: 0 for a monotone curve, 1 for a curve that alternates
    up/down every step (a period-2 cycle).  Our measure for "oscillates with larger
    frequencies" (v1 Fig. 3, v2 Fig. 4).
    """
    values = np.asarray(losses, dtype=np.float64)
    validation.finite_array("losses", values, ndim=1)
    if values.size < 3:
        raise ValueError("losses must be a 1-D curve with at least 3 points")
    differences = np.diff(values)
    return float(np.mean(differences[1:] * differences[:-1] < 0))


@dataclass(frozen=True)
class Cycle:
    """An exact, eventually periodic subgradient orbit: the gaps f(x_k) − f* on its cycle, and where the cycle starts."""
    gaps: tuple
    transient: int
    period: int


def max_affine_cycle(rows, start, max_steps: int = 10_000) -> Cycle | None:
    """The exact orbit x_{k+1} = x_k − a_j (a_j the unique active row) of f(x) = max_i a_iᵀx, followed until it repeats.

    v2 App. D.1 (Prop 5.1): f is positively homogeneous with f* = 0 at 0, so the orbit for step α is α times the
    orbit for α = 1, and the ratio limsup (f − f*)/(αL²) does not depend on α. ``rows`` are integer vectors and
    ``start`` rationals (``fractions.Fraction``), so every iterate is exact and a repeated state certifies the cycle.
    None when the orbit meets a kink (two active rows: the subgradient is not unique) or does not repeat within
    ``max_steps`` (a drifting orbit: 0 outside the rows' hull).
    """
    from fractions import Fraction

    rows = [tuple(row) for row in rows] if isinstance(rows, (list, tuple)) else rows
    if not isinstance(rows, list) or not rows or any(
            len(row) != len(rows[0]) or not all(isinstance(v, int) and not isinstance(v, bool) for v in row)
            for row in rows):
        raise ValueError("rows must be a non-empty list of equally long tuples of ints")
    if (not isinstance(start, (list, tuple)) or len(start) != len(rows[0])
            or not all(isinstance(v, (int, Fraction)) and not isinstance(v, bool) for v in start)):
        raise ValueError(f"start must be a tuple of {len(rows[0])} ints or Fractions")
    validation.positive_int("max_steps", max_steps)
    x, seen, gaps = tuple(Fraction(v) for v in start), {}, []
    for step in range(max_steps):
        if x in seen:
            return Cycle(tuple(gaps[seen[x]:]), seen[x], step - seen[x])
        seen[x] = step
        values = [sum(a * v for a, v in zip(row, x)) for row in rows]
        top = max(values)
        if values.count(top) > 1:
            return None
        gaps.append(top)
        x = tuple(v - a for v, a in zip(x, rows[values.index(top)]))
    return None
