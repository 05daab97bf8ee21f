"""The general LASSO L4 = (1/N)||y - W beta||^2 + lambda1 ||beta||_1 (v1 eq. 11, v2 eq. 15).

The solvers (``sklearn_optimum``, ``ndgm``, ``ista``) check their arguments; the
closed forms (``lasso_objective``, ``lambda_max``, ``smooth_lipschitz``) take
what a solver or ``gdcut.problems`` already checked.

Three ways to minimise it, so the suite can set NDGM beside solvers built for L1:

* ``sklearn_optimum``: coordinate descent of scikit-learn's ``Lasso`` (ground truth);
* ``ista``: proximal gradient (soft thresholding), the method v2 §4 points to;
* ``ndgm``: plain (sub)gradient descent as autograd does it (the rule
  ``gdcut.recursions.ndgm``), vectorised over runs.

``ndgm`` and ``ista`` run many (alpha, lambda1, beta0) triples at once on one
(W, y): rows of ``beta0`` are runs.
"""
from __future__ import annotations

import warnings

import numpy as np

from gdcut import recursions, validation


def _check_instance(W, y) -> tuple[np.ndarray, np.ndarray]:
    return validation.matrix_and_vector("W", W, "y", y)


def _per_run(name: str, value, runs: int) -> np.ndarray:
    return validation.positive_each(name, value, runs)[:, None]


def _check_start(W: np.ndarray, beta0) -> np.ndarray:
    beta = np.array(beta0, dtype=np.float64, ndmin=2)
    validation.finite_array("beta0", beta, ndim=2)
    validation.same_length("W columns", W.shape[1], "beta0 columns", beta.shape[1])
    return beta


def smooth_gradient(W, y, beta) -> np.ndarray:
    """Gradient of (1/N)||y - W beta||^2 for each row of ``beta``: (2/N)(W beta - y)^T W."""
    return 2.0 / W.shape[0] * (beta @ W.T - y) @ W


def lasso_objective(W, y, beta, lambda1) -> np.ndarray:
    """L4 for each row of ``beta`` (1/N scaling, as the paper writes it)."""
    W, y = np.asarray(W, dtype=np.float64), np.asarray(y, dtype=np.float64)
    beta = np.atleast_2d(np.asarray(beta, dtype=np.float64))
    return ((beta @ W.T - y) ** 2).mean(axis=-1) + np.asarray(lambda1) * np.abs(beta).sum(axis=-1)


def lambda_max(W, y) -> float:
    """Smallest lambda1 for which beta = 0 minimises L4: (2/N)||W^T y||_inf."""
    W, y = np.asarray(W, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(2.0 / W.shape[0] * np.abs(W.T @ y).max())


def sklearn_optimum(W, y, lambda1, tol: float = 1e-12, max_iter: int = 1_000_000) -> np.ndarray:
    """The LASSO optimum from ``sklearn.linear_model.Lasso``.

    scikit-learn minimises (1/(2N))||y - W beta||^2 + a ||beta||_1; multiplying
    L4 by 1/2 shows the same minimiser needs a = lambda1 / 2.  No intercept: L4 has none.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    W, y = _check_instance(W, y)
    validation.positive("lambda1", lambda1)
    validation.positive("tol", tol)
    validation.positive_int("max_iter", max_iter)
    model = Lasso(alpha=lambda1 / 2, fit_intercept=False, tol=tol, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(W, y)
    return model.coef_.copy()


def _check_run(W, y, lambda1, alpha, beta0, steps: int):
    """Checked (W, y, beta0, per-run lambda1, per-run alpha) for the iterative solvers."""
    W, y = _check_instance(W, y)
    beta = _check_start(W, beta0)
    validation.non_negative_int("steps", steps)
    return W, y, beta, _per_run("lambda1", lambda1, beta.shape[0]), _per_run("alpha", alpha, beta.shape[0])


def ndgm(W, y, lambda1, alpha, beta0, steps: int) -> np.ndarray:
    """Final iterates of NDGM on L4 for each row of ``beta0``.

    ``lambda1`` and ``alpha`` are one value or one per row.  The L1 part takes
    lambda1 sign(beta) (autograd's choice, 0 at 0).
    """
    W, y, beta, lam, step = _check_run(W, y, lambda1, alpha, beta0, steps)
    gradient = lambda b: smooth_gradient(W, y, b) + recursions.l1_subgradient(b, lam)  # noqa: E731
    trajectory, _ = recursions.run(recursions.ndgm(step), gradient, beta, steps, record_last=1)
    return trajectory[-1]


def ndgm_horizon(beta0, alpha, lambda1) -> int:
    """Steps after which NDGM on L4 has reached its limiting band, by the closed form of the penalty part.

    Off the row space of W the smooth gradient vanishes, so there an entry moves only by the
    penalty's αλ1 per step (v2 eq. 11): it needs n = ⌈max|β0| / (αλ1)⌉ steps to reach the band.
    The horizon is 2n + 60/α: as long again for the row space, whose L1 shrinkage starts only
    as the entries arrive, and 60 units of gradient-flow time for the smooth part to settle.
    The tests certify the result (stationarity, distance to scikit-learn's optimum) instead of
    trusting it.
    """
    beta = np.asarray(beta0, dtype=np.float64)
    validation.positive("alpha", alpha)
    validation.positive("lambda1", lambda1)
    return 2 * int(np.ceil(np.abs(beta).max(initial=0.0) / (alpha * lambda1))) + int(np.ceil(60 / alpha))


def ndgm_window_norms(W, y, lambda1, alpha, beta0, steps: int, window: int, earlier: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ‖β_t‖₁ over the last ``window`` steps before T − ``earlier`` and before T, per row of ``beta0``: (2, runs).

    NDGM on L4 ends in a noisy band, not a point, so its limit is read as the mean L1 norm over
    a window; the two windows give a stationarity certificate (their relative difference).
    Also returns the final iterates.
    """
    W, y, beta, lam, step = _check_run(W, y, lambda1, alpha, beta0, steps)
    validation.positive_int("window", window)
    validation.positive_int("earlier", earlier)
    if window > steps - earlier or window > earlier:
        raise ValueError(f"window must fit before T − earlier and in the last earlier steps, got window={window}, "
                         f"earlier={earlier}, steps={steps}")
    gradient = lambda b: smooth_gradient(W, y, b) + recursions.l1_subgradient(b, lam)  # noqa: E731
    means = []
    for part in (steps - earlier, earlier):
        trajectory, _ = recursions.run(recursions.ndgm(step), gradient, beta, part, record_last=window)
        beta = trajectory[-1]
        means.append(np.abs(trajectory).sum(axis=-1).mean(axis=0))
    return np.stack(means), beta


def ista(W, y, lambda1, alpha, beta0, steps: int) -> np.ndarray:
    """Final iterates of proximal gradient (ISTA) on L4: a gradient step on the
    smooth part, then soft thresholding at alpha lambda1 (which sets entries exactly to 0).

    Converges to the optimum for alpha < 1 / Lipschitz(grad) = N / (2 ||W||_2^2).
    """
    W, y, beta, lam, step = _check_run(W, y, lambda1, alpha, beta0, steps)
    for _ in range(steps):
        beta = recursions.soft_threshold(beta - step * smooth_gradient(W, y, beta), step * lam)
    return beta


def smooth_lipschitz(W) -> float:
    """Lipschitz constant of the gradient of (1/N)||y - W beta||^2: 2 ||W||_2^2 / N."""
    W = np.asarray(W, dtype=np.float64)
    return float(2.0 * np.linalg.norm(W, 2) ** 2 / W.shape[0])
