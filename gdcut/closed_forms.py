"""Closed forms for what the LASSO propositions predict (v2 §4, App. B; v1 §3).

The toy LASSO under NDGM, RMSProp's second moment and step, and the step
schedules' totals; called by the claims with arguments that the problem
builders and runners have already checked, so nothing here re-checks them.

Notation: h = alpha * lambda1 is the length of one NDGM step on L3 = lambda1 ||beta||_1.
All functions are elementwise numpy and exact when given Fractions (numpy
``object`` arrays of :class:`fractions.Fraction`); with floats they evaluate
the same formulas in floating point.  The last, ``penalty_only_run``, is the
torch simulation of the same penalty-only dynamics on a deep net's weights
(v2 App. C), for the optimisers that have no closed form.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np


def step_length(alpha, lambda1):
    """h = alpha * lambda1, the distance one NDGM step on L3 moves a non-zero entry."""
    return alpha * lambda1


def band_entry_step(beta0, alpha, lambda1):
    """n_k = floor(|beta0[k]| / h): the first step with |beta_n[k]| < h (v2 proof of Prop B.2).

    From n_k on, entry k is 2-periodic (or zero); before, it moves monotonically
    towards 0 by h per step.  Integer array.
    """
    h = step_length(alpha, lambda1)
    beta0 = np.asarray(beta0)
    return np.floor(np.abs(beta0) / h).astype(np.int64)


def hits_zero(beta0, alpha, lambda1):
    """Exact condition of v2 Prop B.1 (eq. 12): entry k ever equals 0 iff beta0[k] is in h * Z.

    Exact for Fractions; for floats it only evaluates the same test in float.
    """
    beta0 = np.asarray(beta0)
    ratio = beta0 / step_length(alpha, lambda1)
    return np.asarray(ratio == np.floor(ratio), dtype=bool)


def oscillation_start(beta0, alpha, lambda1):
    """N0 = max_k n_k, the first step from which every entry is 2-periodic (v2 Prop B.2)."""
    return int(np.max(band_entry_step(beta0, alpha, lambda1), initial=0))


def oscillation_pair(beta0, alpha, lambda1):
    """The pair (gamma_k, gamma_k - h) that entry k alternates between after n_k.

    gamma_k = beta0[k] mod h lies in (0, h) for both signs of beta0[k] (v2 eq. 8,
    13); for an entry in h * Z the pair degenerates to (0, 0).
    """
    h = step_length(alpha, lambda1)
    beta0 = np.asarray(beta0)
    zero = hits_zero(beta0, alpha, lambda1)
    gamma = np.mod(beta0, h)
    return gamma, np.where(zero, gamma * 0, gamma - h)


def gamma_parity(beta0, alpha, lambda1):
    """Parity of the steps t >= n_k at which entry k equals gamma_k (the upper point).

    A positive entry arrives at gamma_k at step n_k; a negative one arrives at
    gamma_k - h at n_k and is at gamma_k one step later.  Entries with different
    parities are in opposite phases, which v2 eq. 8 (one N0 and one parity of m
    for all k) cannot express.
    """
    n = band_entry_step(beta0, alpha, lambda1)
    negative = np.asarray(np.asarray(beta0) < 0, dtype=np.int64)
    return (n + negative) % 2


def ndgm_iterate(beta0, alpha, lambda1, t: int):
    """beta_t of NDGM on L3 in closed form (v2 eq. 11 solved), without iterating."""
    h = step_length(alpha, lambda1)
    beta0 = np.asarray(beta0)
    n = band_entry_step(beta0, alpha, lambda1)
    upper, lower = oscillation_pair(beta0, alpha, lambda1)
    periodic = np.where((t - gamma_parity(beta0, alpha, lambda1)) % 2 == 0, upper, lower)
    descending = beta0 - t * h * np.sign(beta0)
    return np.where(t <= n, descending, periodic)


def ndgm_cycle_step(beta0, alpha, lambda1) -> int:
    """A step from which every NDGM entry is in its 2-cycle (v2 Prop B.2): |β0_k| / h steps of length h = αλ1, plus one."""
    return int(math.ceil(float(np.abs(beta0).max()) / step_length(alpha, lambda1))) + 1


def eventual_l1_norms(beta0, alpha, lambda1):
    """The two values ||beta_N||_1 takes for N >= N0 (at N0 and at N0 + 1), last axis summed.

    Their liminf / limsup are what v2 eq. 9 and Prop B.6 bound.  Also their sum
    equals P h exactly when no entry hits 0, so max >= P h / 2.
    """
    n0 = oscillation_start(beta0, alpha, lambda1)
    at_n0 = np.abs(ndgm_iterate(beta0, alpha, lambda1, n0)).sum(axis=-1)
    after = np.abs(ndgm_iterate(beta0, alpha, lambda1, n0 + 1)).sum(axis=-1)
    return at_n0, after


def common_phase_probability(num_entries: int) -> float:
    """P(all entries of beta0 ~ U[-1,1]^P share the gamma parity) = 2^(1-P).

    Each entry's parity is 0 or 1 with probability 1/2 whatever h is (the sign of
    beta0[k] flips it, and the sign is independent of |beta0[k]|), so only this
    fraction of initialisations obeys v2 eq. 8 read literally.
    """
    return 2.0 ** (1 - num_entries)


# --- bounds -----------------------------------------------------------------

def l1_lipschitz_constant(lambda1, num_entries: int) -> float:
    """Lipschitz constant of lambda1 ||beta||_1 with respect to the Euclidean norm: lambda1 sqrt(P).

    v2 §4 uses L = lambda1, which is the constant for P = 1 (or for the
    l_inf -> l_1 pairing), not the one Boyd's subgradient analysis needs.
    """
    return lambda1 * math.sqrt(num_entries)


def boyd_constant_step_gap(alpha, lipschitz) -> float:
    """Constant-step subgradient method: f_best - f* <= alpha L^2 / 2 in the limit (Boyd et al. 2003, §2)."""
    return alpha * lipschitz**2 / 2


def ndgm_l1_bound(alpha, lambda1, num_entries: int):
    """Prop B.6: limsup ||beta_N||_1 < P alpha lambda1 (the per-entry bound h summed)."""
    return num_entries * step_length(alpha, lambda1)


def rmsprop_second_moment(gamma, lambda1, t: int):
    """v2 eq. 20: v_t = (1 - gamma^t) lambda1^2 while the entry has stayed non-zero."""
    return (1 - gamma**t) * lambda1**2


def rmsprop_step_paper(alpha, gamma, eps_bar, lambda1, t: int):
    """Length of step t of eq. 21: alpha / sqrt(1 - gamma^t + eps_bar / lambda1^2)."""
    return alpha / np.sqrt(1 - gamma**t + eps_bar / lambda1**2)


def rmsprop_step_torch(lr, smoothing, eps, lambda1, t: int):
    """Length of step t of torch.optim.RMSprop on L3: lr / (sqrt(1 - smoothing^t) + eps / lambda1).

    ``smoothing`` is torch's ``alpha`` argument (the paper's gamma).  As t grows
    the step tends to lr / (1 + eps / lambda1): that is lr only while
    lambda1 >> eps, which is where v2 Prop B.5 needs its condition eps << 1.
    """
    return lr / (np.sqrt(1 - smoothing**t) + eps / lambda1)


def rmsprop_first_step_literal(alpha, eps_bar, lambda1):
    """First step of eq. 19 read literally (v_0 = 0 used for beta_0): alpha lambda1 / sqrt(eps_bar)."""
    return alpha * lambda1 / math.sqrt(eps_bar)


def fig5_loss_bounds(alpha, lambda1, num_entries: int) -> dict[str, float]:
    """v2 App. B.4: eventual loss bounds, NDGM < P alpha lambda1^2 and RMSProp < P alpha lambda1.

    RMSProp's bound uses its eventual step alpha (Prop B.5), NDGM's uses h.
    """
    return {
        "ndgm": num_entries * alpha * lambda1**2,
        "rmsprop": num_entries * alpha * lambda1,
    }


def step_decay_total(lr0, step_size: int, gamma) -> float:
    """Sum of all learning rates of StepLR (lr0 gamma^floor(t / step_size)): lr0 step_size / (1 - gamma).

    Finite: a summable schedule (v2 §3, claim S3).  On L3 an entry can travel at
    most lambda1 times this distance, so |beta0[k]| beyond it is never reached by 0.
    """
    return lr0 * step_size / (1 - gamma)


# --- the penalty alone on a deep net's weights (gdcut.deepnet) -----------------

def penalty_only_run(initial_weights, optimiser: str, lr: float, lambda1: float, steps: int,
                     before: tuple[float, int] | None = None):
    """The torch.optim rule on lambda1*||w||_1 alone (v2 eq. 7) from ``initial_weights``, float32.

    What the closed forms above predict for a deep net's weights where the penalty
    dominates (v2 App. C, L18-L20), run for the optimisers that have none.

    Returns (final weights, arrival step per weight): the first step at which
    the weight reached 0 (changed sign or became 0); ``steps + 1`` where it
    never did, 0 where it started at 0. ``before = (lambda1_before, steps_before)``
    first runs the same optimiser on the other penalty and then resets the
    weights, as v2 App. C's loop does with its one optimiser per kind.
    """
    import torch

    from gdcut.optimisers import make_optimiser

    with _one_thread():
        start = torch.as_tensor(initial_weights).detach().float()
        weights = start.clone().requires_grad_(True)
        opt = make_optimiser(optimiser, [weights], lr)
        if before is not None:
            for _ in range(before[1]):
                weights.grad = before[0] * torch.sign(weights.detach())
                opt.step()
            with torch.no_grad():
                weights.copy_(start)
        start_sign = torch.sign(start)
        arrival = torch.full(start.shape, steps + 1, dtype=torch.int64)
        arrival[start == 0] = 0
        for step in range(1, steps + 1):
            # the gradient autograd gives lambda1 * sum|w| (tested equal), without building a graph each step
            weights.grad = lambda1 * torch.sign(weights.detach())
            opt.step()
            reached = (torch.sign(weights.detach()) != start_sign) & (arrival > steps)
            arrival[reached] = step
        return weights.detach(), arrival


@contextlib.contextmanager
def _one_thread():
    # penalty_only_run's steps are a few elementwise kernels on ~20,000 weights: more threads only add
    # synchronisation, which on a busy machine cost 30 times (Adam's App. C successor horizon took 135 s on 2 threads
    # beside a training process, 4.8 s on 1, 2026-12-04). Elementwise float32 arithmetic is the same on any count.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
