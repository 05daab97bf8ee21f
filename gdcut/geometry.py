"""Min common / max crossing (MC/MC) and supporting hyperplanes, by linear programming (v2 App. A.2).

Polyhedral convex functions f(x) = max_i (a_i^T x + b_i) are written by their
rows ``A`` (m, n) and offsets ``b`` (m,).  For them every object of App. A.2 is
a linear program (scipy.optimize.linprog):

* w*, the min common value at c: min w with (c, w) in epi f.
* q*, the max crossing value: the best intercept at c of a non-vertical
  hyperplane w = xi - mu^T (x - c) lying below epi f; by LP duality
  q* = max over the simplex of lambda^T (A c + b), attained at mu = -A^T lambda.
* q(mu) for one slope: min over (x, t) of t + mu^T (x - c) subject to A x + b <= t.
* supporting slopes at c: the g with f(x) >= f(c) + g^T (x - c) for all x, i.e.
  the subdifferential.  A hyperplane through (c, f(c)) with normal (g, -1) is
  non-vertical; a vertical one has normal (v, 0).

The eq. 3 loss at beta = 0 is not polyhedral, but its subdifferential is the
zonotope {-2 sum_i y_i theta_i z_i + lambda1 s : theta in [0,1]^N, s in [-1,1]^P};
membership is again an LP.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from gdcut import validation

_TOLERANCE = 1e-9


def _check_max_affine(A, b) -> tuple[np.ndarray, np.ndarray]:
    return validation.matrix_and_vector("A", A, "b", b)


def _check_point(name: str, c, dimension: int, matrix: str = "A") -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    validation.finite_array(name, c, ndim=1)
    validation.same_length(f"{matrix} columns", dimension, name, c.shape[0])
    return c


def max_affine(A, b, x) -> np.ndarray:
    """f(x) = max_i (a_i^T x + b_i) for x of shape (..., n)."""
    A, b = _check_max_affine(A, b)
    x = np.asarray(x, dtype=np.float64)
    validation.finite_array("x", x)
    if x.ndim == 0 or x.shape[-1] != A.shape[1]:
        raise ValueError(f"x must have shape (..., {A.shape[1]}) to match A, got {x.shape}")
    return (x @ A.T + b).max(axis=-1)


def _lp(cost, **constraints):
    """Solve with HiGHS; None when the LP is unbounded.

    HiGHS's default choice occasionally ends with status "unknown" on small,
    degenerate LPs (seen with the dual simplex on 7×4 max-affine problems);
    its other two solvers, then the default without presolve, are tried before giving up.
    """
    from scipy.optimize import linprog  # imported here: scipy.optimize costs half a second at collection

    for method, options in (("highs", {}), ("highs-ipm", {}), ("highs-ds", {}), ("highs", {"presolve": False})):
        result = linprog(cost, method=method, options=options, **constraints)
        if result.status == 3:
            return None
        if result.status == 0:
            return result
    raise RuntimeError(f"linprog failed with every HiGHS method: {result.message}")


def max_affine_minimum(A, b) -> tuple[float, np.ndarray]:
    """(f*, a minimiser) of f = max_i (a_i^T x + b_i): min t s.t. A x + b <= t.  ValueError if unbounded below."""
    A, b = _check_max_affine(A, b)
    m, n = A.shape
    result = _lp(np.r_[np.zeros(n), 1.0], A_ub=np.c_[A, -np.ones(m)], b_ub=-b, bounds=[(None, None)] * (n + 1))
    if result is None:
        raise ValueError("A, b: the max-affine function is unbounded below (no finite minimum)")
    return float(result.fun), result.x[:n]


def min_common_value(A, b, c) -> float:
    """w* at c: the lowest w with (c, w) in epi f (v2 App. A.2.2, first bullet), by LP."""
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    # min w subject to a_i^T c + b_i <= w for all i.
    result = _lp(np.array([1.0]), A_ub=-np.ones((A.shape[0], 1)), b_ub=-(A @ c + b), bounds=[(None, None)])
    return float(result.fun)


def crossing_value(A, b, c, mu) -> float:
    """q(mu) = inf_x f(x) + mu^T (x - c): the intercept at c of the highest hyperplane of slope -mu below epi f.

    -inf when no such hyperplane exists (the LP is unbounded).
    """
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    mu = _check_point("mu", mu, A.shape[1])
    m, n = A.shape
    result = _lp(np.r_[mu, 1.0], A_ub=np.c_[A, -np.ones(m)], b_ub=-b, bounds=[(None, None)] * (n + 1))
    return -np.inf if result is None else float(result.fun - mu @ c)


def max_crossing(A, b, c) -> tuple[float, np.ndarray]:
    """(q*, a maximising slope mu) at c (v2 App. A.2.2, second bullet), by the dual LP over the simplex.

    By LP duality this equals f(c) at *every* c (q* = f**(c) = f(c) for a closed convex f), minimum or not: it
    checks the solver, not G1. What G1 adds at a minimum is that the horizontal slope mu = 0 already attains
    it: ``crossing_value(A, b, c, 0) == f(c)``.
    """
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    m = A.shape[0]
    result = _lp(-(A @ c + b), A_eq=np.ones((1, m)), b_eq=[1.0], bounds=[(0, None)] * m)
    weights = result.x
    return float(-result.fun), -(A.T @ weights)


def is_supporting_slope(A, b, c, g, tolerance: float = _TOLERANCE) -> bool:
    """Whether the hyperplane through (c, f(c)) with slope g lies below epi f: min_x f(x) - g^T (x - c) >= f(c)."""
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    g = _check_point("g", g, A.shape[1])
    validation.non_negative("tolerance", tolerance)
    lowest = crossing_value(A, b, c, -g)
    return bool(lowest >= max_affine(A, b, c) - tolerance)


def active_pieces(A, b, c, tolerance: float = _TOLERANCE) -> np.ndarray:
    """Indices i with a_i^T c + b_i = f(c): the subdifferential at c is the hull of their a_i."""
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    validation.non_negative("tolerance", tolerance)
    values = A @ c + b
    return np.flatnonzero(values >= values.max() - tolerance)


def directional_derivative(A, b, c, d) -> float:
    """f'(c; d) = max over active pieces of a_i^T d (the support function of the subdifferential)."""
    A, b = _check_max_affine(A, b)
    d = _check_point("d", d, A.shape[1])
    return float((A[active_pieces(A, b, c)] @ d).max())


def subdifferential_width(A, b, c, d) -> float:
    """f'(c; d) + f'(c; -d): the spread of the supporting slopes along d; 0 for every d iff f is differentiable at c."""
    return directional_derivative(A, b, c, d) + directional_derivative(A, b, c, -np.asarray(d, dtype=np.float64))


def vertical_hyperplane_supports(A, b, c, normal) -> bool:
    """Whether the vertical hyperplane {(x, w): normal^T (x - c) = 0} keeps all of epi f on one side.

    By LP over epi f = {(x, t): A x + b <= t}: it supports when normal^T (x - c) is bounded below by 0, or above
    by 0, over the epigraph. A max-affine f is finite everywhere, so its epigraph projects onto all of R^n and
    the answer is False for every non-zero normal (v2 App. A.2: the supporting family is non-vertical).
    """
    A, b = _check_max_affine(A, b)
    c = _check_point("c", c, A.shape[1])
    normal = _check_point("normal", normal, A.shape[1])
    if not normal.any():
        raise ValueError("normal must be non-zero (a zero normal defines no hyperplane)")
    m, n = A.shape
    epigraph = {"A_ub": np.c_[A, -np.ones(m)], "b_ub": -b, "bounds": [(None, None)] * (n + 1)}
    lowest = _lp(np.r_[normal, 0.0], **epigraph)
    highest = _lp(np.r_[-normal, 0.0], **epigraph)
    below = lowest is not None and lowest.fun - normal @ c >= -_TOLERANCE
    above = highest is not None and -highest.fun - normal @ c <= _TOLERANCE
    return bool(below or above)


# --------------------------------------------------------------------------- the eq. 3 loss at beta = 0
def _check_relu_regression(Z, y, lambda1) -> tuple[np.ndarray, np.ndarray]:
    """Z, y as float64 arrays after checking the eq. 3 instance and its penalty."""
    validation.non_negative("lambda1", lambda1)
    return validation.matrix_and_vector("Z", Z, "y", y)


def relu_regression_directional_derivative_at_zero(Z, y, lambda1, d) -> float:
    """f'(0; d) for L1(beta; Z, y, lambda1, lambda2) of eq. 3: sum_i -2 y_i max(0, z_i^T d) + lambda1 ||d||_1.

    The ridge term has zero derivative at 0.  With y <= 0 both f'(0; d) and f'(0; -d) are >= 0,
    so they cannot add up to 0 unless both vanish: beta = 0 is a kink (claim C7).
    """
    Z, y = _check_relu_regression(Z, y, lambda1)
    d = _check_point("d", d, Z.shape[1], matrix="Z")
    return float(-2 * y @ np.maximum(0.0, Z @ d) + lambda1 * np.abs(d).sum())


def in_relu_regression_subdifferential_at_zero(Z, y, lambda1, g, tolerance: float = 1e-9) -> bool:
    """Whether g lies in the subdifferential of the eq. 3 loss at beta = 0 (y <= 0), by a feasibility LP.

    g = sum_i (-2 y_i) theta_i z_i + lambda1 s with theta in [0, 1]^N, s in [-1, 1]^P.
    """
    Z, y = _check_relu_regression(Z, y, lambda1)
    if np.any(y > 0):
        raise ValueError("y must be non-positive (the convex case of eq. 3)")
    validation.non_negative("tolerance", tolerance)
    g = _check_point("g", g, Z.shape[1], matrix="Z")
    n, p = Z.shape
    # Variables (theta, s); minimise the L1 misfit with slack u >= |g - M theta - lambda1 s|.
    generators = (-2 * y)[None, :] * Z.T  # (P, N): column i is -2 y_i z_i
    equality = np.c_[generators, lambda1 * np.eye(p), np.eye(p), -np.eye(p)]
    cost = np.r_[np.zeros(n + p), np.ones(2 * p)]
    bounds = [(0, 1)] * n + [(-1, 1)] * p + [(0, None)] * (2 * p)
    result = _lp(cost, A_eq=equality, b_eq=g, bounds=bounds)
    return bool(result.fun <= tolerance * max(1.0, np.abs(g).sum()))


def one_sided_derivatives(f: Callable[[np.ndarray], float], x, d, h: float = 1e-7) -> tuple[float, float]:
    """Forward differences (f(x + h d) - f(x)) / h and (f(x - h d) - f(x)) / h: f'(x; d) and f'(x; -d)."""
    validation.positive("h", h)
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    validation.finite_array("x", x)
    validation.finite_array("d", d)
    if d.shape != x.shape:
        raise ValueError(f"d must have the shape of x {x.shape}, got {d.shape}")
    base = f(x)
    return (f(x + h * d) - base) / h, (f(x - h * d) - base) / h
