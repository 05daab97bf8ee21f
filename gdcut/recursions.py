"""The optimiser recursions of the paper's LASSO section, as pure (init, update) pairs.

Each rule is an :class:`UpdateRule` in the manner of optax (its hyperparameters
are not re-checked: the claims pass the paper's values, and ``run`` checks the start): ``init(beta)`` builds
the state, ``update(grad, state, beta)`` returns ``(delta, new_state)`` and the
iterate moves by ``beta + delta``.  Everything is elementwise numpy, so one
implementation serves three uses:

* exact rational arithmetic: ``beta`` a numpy ``object`` array of
  :class:`fractions.Fraction` (every rule except the square roots of RMSProp);
* float64 / float32 arrays with a leading "trial" axis, many initialisations at once;
* scalars.

Two families are written out where the paper and torch differ:

* momentum: the paper's heavy-ball form (v2 eq. 16) and torch.optim.SGD's
  buffer form (``buf = mu*buf + g; beta -= lr*buf``, no dampening by default);
* RMSProp: the paper's eq. 18-19 (jitter inside the square root) and
  torch.optim.RMSprop (``eps`` added after the square root).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from gdcut import validation


class UpdateRule(NamedTuple):
    """An optimiser as a pair of pure functions (optax style)."""

    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], tuple[Any, Any]]


def l1_subgradient(beta, lambda1):
    """What autograd returns for the toy loss L3 = lambda1 ||beta||_1 (v2 eq. 7).

    ``lambda1 * sign(beta)``: torch's ``abs`` has derivative 0 at 0, which makes
    zero an absorbing state of plain NDGM (v2 eq. 11, third case).
    """
    return lambda1 * np.sign(beta)


def ndgm(alpha) -> UpdateRule:
    """Vanilla NDGM / SGD with constant step ``alpha`` (v1 eq. 8, v2 eq. 11)."""

    def update(grad, state, beta):
        return -alpha * grad, state

    return UpdateRule(lambda beta: None, update)


def heavy_ball(alpha, eta) -> UpdateRule:
    """NDGM with momentum as the paper writes it (v2 eq. 16).

    beta_{N+1} = beta_N - alpha (1 - eta) grad(beta_N) + eta (beta_N - beta_{N-1}),
    with beta_{-1} = beta_0 (no momentum on the first step).  The state is the
    previous displacement beta_N - beta_{N-1}.
    """
    def update(grad, previous_delta, beta):
        delta = -alpha * (1 - eta) * grad + eta * previous_delta
        return delta, delta

    return UpdateRule(lambda beta: beta * 0, update)


def torch_momentum(lr, momentum=0.9) -> UpdateRule:
    """torch.optim.SGD(momentum=mu) with its defaults dampening=0, nesterov=False.

    buf_1 = g_1, buf_t = mu buf_{t-1} + g_t, beta -= lr buf.  Rewritten it is
    eq. 16 with alpha (1 - eta) replaced by lr: the same heavy ball, a different
    parametrisation of the step.
    """
    def update(grad, buf, beta):
        buf = grad if buf is None else momentum * buf + grad
        return -lr * buf, buf

    return UpdateRule(lambda beta: None, update)


def rmsprop_paper(alpha, gamma=0.99, eps_bar=1e-8) -> UpdateRule:
    """RMSProp as v2 eq. 18-19 writes it: jitter ``eps_bar`` inside the square root.

    v_t = gamma v_{t-1} + (1 - gamma) g_t^2 and beta_t = beta_{t-1} - alpha g_t / sqrt(v_t + eps_bar),
    with v_0 = 0.  The step that leaves beta_{t-1} uses v_t, which already holds
    g_t: this is Ruder's eq. 18 and torch's order.  Read literally, eq. 19 pairs
    beta_t with v_t computed *before* g_t; then the first step divides by
    sqrt(eps_bar) (see ``gdcut.closed_forms.rmsprop_first_step_literal``).
    """
    def update(grad, v, beta):
        v = gamma * v + (1 - gamma) * grad**2
        return -alpha * grad / np.sqrt(v + eps_bar), v

    return UpdateRule(lambda beta: beta * 0, update)


def rmsprop_torch(lr, smoothing=0.99, eps=1e-8) -> UpdateRule:
    """torch.optim.RMSprop with its defaults (smoothing, torch's ``alpha``, = the paper's gamma = 0.99; eps = 1e-8).

    Differs from eq. 19 in one place: ``eps`` is added to sqrt(v), not to v.
    """
    def update(grad, v, beta):
        v = smoothing * v + (1 - smoothing) * grad**2
        return -lr * grad / (np.sqrt(v) + eps), v

    return UpdateRule(lambda beta: beta * 0, update)


def second_moment_only(gamma) -> UpdateRule:
    """The second-moment half of RMSProp (eq. 18) with no step: exact in Fractions.

    Used to check eq. 20, v_t = (1 - gamma^t) lambda1^2, with rational gamma.
    """
    def update(grad, v, beta):
        v = gamma * v + (1 - gamma) * grad**2
        return beta * 0, v

    return UpdateRule(lambda beta: beta * 0, update)


def run(rule: UpdateRule, grad_fn: Callable[[Any], Any], beta0, steps: int, record_last: int | None = None):
    """Iterate ``rule`` from ``beta0`` for ``steps`` steps.

    Returns ``(trajectory, state)``; the trajectory stacks beta_0 ... beta_steps
    along a new first axis, or only the last ``record_last`` iterates.  Works
    for object arrays of Fractions (exact) as well as float arrays.
    """
    validation.non_negative_int("steps", steps)
    if record_last is not None:
        validation.positive_int("record_last", record_last)
    beta = np.asarray(beta0)
    validation.finite_array("beta0", beta)
    keep_from = 0 if record_last is None else max(0, steps + 1 - record_last)
    state = rule.init(beta)
    kept = [beta] if keep_from == 0 else []
    for t in range(1, steps + 1):
        delta, state = rule.update(grad_fn(beta), state, beta)
        beta = beta + delta
        if t >= keep_from:
            kept.append(beta)
    return np.stack(kept), state


def soft_threshold(x, threshold):
    """The proximal map of threshold * ||.||_1: sign(x) max(|x| - threshold, 0)."""
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0 * threshold)


def ndgm_toy(beta0, alpha, lambda1, steps: int):
    """NDGM on the toy loss L3 = lambda1 ||beta||_1 (v2 eq. 11): beta_0 ... beta_steps, exact for Fractions."""
    validation.positive("alpha", alpha)
    validation.non_negative("lambda1", lambda1)
    trajectory, _ = run(ndgm(alpha), lambda beta: l1_subgradient(beta, lambda1), beta0, steps)
    return trajectory


def ista_toy(beta0, alpha, lambda1, steps: int):
    """Proximal gradient on the toy loss L3 (no smooth part): repeated soft thresholding."""
    validation.positive("alpha", alpha)
    validation.non_negative("lambda1", lambda1)
    validation.non_negative_int("steps", steps)
    beta = np.asarray(beta0)
    validation.finite_array("beta0", beta)
    trajectory = [beta]
    for _ in range(steps):
        beta = soft_threshold(beta, alpha * lambda1)
        trajectory.append(beta)
    return np.stack(trajectory)


def rmsprop_torch_high_precision(beta0, lambda1, lr, smoothing, eps, steps: int):
    """torch.optim.RMSprop's rule on L3 = lambda1 ||beta||_1 in arithmetic precise enough to be exact here (mpmath).

    While an entry is non-zero its gradient is lambda1 sign(beta), so v_t = (1 - smoothing^t) lambda1^2
    (v2 eq. 20) and every entry moves by the same s_t = lr / (sqrt(1 - smoothing^t) + eps / lambda1):
    one step sequence serves all entries. An entry at an exact 0 has gradient 0 and stays (its update
    is 0 whatever v is). Returns (last two iterates, smallest |beta_t| met) as lists of mpf, to read
    exact-arithmetic behaviour where float rounds the last gap to 0 (v2 Prop B.4), and the digits used.

    An entry near 0 tracks it within the step differences s_t − s_{t+1} = O(smoothing^t), so the
    precision is 40 digits beyond smoothing^steps: no rounding can set an entry to 0.
    """
    import math

    import mpmath

    validation.positive_int("steps", steps)
    digits = 40 + math.ceil(steps * -math.log10(smoothing))
    with mpmath.workdps(digits):
        lam, rate, gamma, jitter = (mpmath.mpf(str(x)) for x in (lambda1, lr, smoothing, eps))
        beta = [mpmath.mpf(float(b)) for b in np.asarray(beta0, dtype=np.float64).ravel()]
        previous, smallest = list(beta), [abs(b) for b in beta]
        for t in range(1, steps + 1):
            step = rate / (mpmath.sqrt(1 - gamma**t) + jitter / lam)
            previous = beta
            beta = [b - mpmath.sign(b) * step for b in beta]
            smallest = [min(s, abs(b)) for s, b in zip(smallest, beta)]
        return [previous, beta], smallest, digits
