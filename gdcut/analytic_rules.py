"""The pre-registered decision rules of the analytic claims C1, E3, L13 and L16, fixed before the runs.

Each turns measured runs into outcomes and outcomes into a ``gdcut.rules.Ruling``
(supports / refutes / inconclusive) through the generic rules of ``gdcut.rules``;
tests/test_analytic_rules.py plants outcomes that reach every decision.
"""
from __future__ import annotations

import numpy as np

from gdcut import convex, rules
from gdcut.ledger.registry import claim
from gdcut.rules import Ruling


def tail(curve: np.ndarray) -> np.ndarray:
    """The second half of a per-step curve: where the claims read a run's eventual behaviour."""
    return curve[len(curve) // 2:]


# --------------------------------------------------------------------------- C1
#: C1's rule, fixed before the runs (see test_fig1_loss_decreases_while_infinity_norm_exceeds_one).
C1_MIN_SEEDS = 3                     # usable seeds per (dtype, α) cell
C1_ROUNDING = 64                     # a loss step up by ≤ 64·eps(dtype)·L_k is rounding, not an increase
C1_RADIUS = claim("C1").paper_value("capture radius")  # the ball of Prop 3.1 that Fig. 1's ‖β_k‖∞ leaves


def c1_seed_outcome(losses: np.ndarray, sup_norm: np.ndarray, eps: float) -> bool | None:
    """Both halves of Fig. 1 on one run: True (monotone loss and ‖β_k‖∞ > 1), False (the loss rises), None (void).

    Void: ‖β0‖∞ ≥ 1 (nothing to leave), or a monotone loss whose ‖β_k‖∞ has not yet
    exceeded 1 by the last step (the paper says 'eventually': a longer run could still show it).
    """
    losses, sup_norm = np.asarray(losses, dtype=float), np.asarray(sup_norm, dtype=float)
    if not (np.isfinite(losses).all() and np.isfinite(sup_norm).all()):
        return False  # the run blew up: the loss did not decrease
    if sup_norm[0] >= C1_RADIUS:
        return None
    if (np.diff(losses) > C1_ROUNDING * eps * np.abs(losses[:-1])).any():
        return False
    return True if sup_norm.max() > C1_RADIUS else None


def c1_rule(outcomes, steps: int) -> Ruling:
    """Fig. 1 at one (dtype, α): supports when every usable seed shows both halves, refutes when none does.

    ``steps``: the horizon of the runs, named in the void reason.
    """
    return rules.unanimity_rule(
        outcomes, "C1: Fig. 1 reproduces (monotone loss, ‖β_k‖∞ eventually > 1) at a given α",
        "seeds with both halves of Fig. 1", min_n=C1_MIN_SEEDS,
        void=f"void: ‖β_k‖∞ still ≤ 1 after {steps} steps of a monotone run, or ‖β0‖∞ ≥ 1")


def c1_some_rate_rule(by_rate: dict) -> Ruling:
    """Fig. 1 as the paper states it, existentially: does some swept α reproduce it? (``by_rate``: α -> c1_rule).

    supports when some α's cell supports; refutes only when every α's cell refutes; else inconclusive.
    """
    if not by_rate:
        raise ValueError("by_rate must hold at least one learning rate's ruling")
    words = {rate: ruling.decision for rate, ruling in by_rate.items()}
    reproducing = [rate for rate, word in words.items() if word == "supports"]
    values = {f"α = {rate:g}": word for rate, word in words.items()}
    rule = "C1: Fig. 1 reproduces at some learning rate (the paper does not state α)"
    statistic = "learning rates whose cell supports (all seeds show both halves of Fig. 1)"
    threshold = "supports: some α supports; refutes: every α refutes; otherwise inconclusive"
    if reproducing:
        return Ruling("supports", rule, statistic, threshold, len(words), values)
    if all(word == "refutes" for word in words.values()):
        return Ruling("refutes", rule, statistic, threshold, len(words), values)
    return Ruling("inconclusive", rule, statistic, threshold, len(words), values,
                  "no learning rate reproduces Fig. 1 for every seed, and not every one fails")


# --------------------------------------------------------------------------- E3
#: E3's rules (see the two E3 tests).
E3_MIN_SEEDS = 2                       # usable seeds per cell (HUBER_SEEDS)
E3_BOUNDED, E3_DIVERGING = 1.01, 2.0   # tail / early max ‖β‖: bounded at or below, diverging at or above
E3_CONVERGED = 1e-8                    # a tail below 1e-8·L(β0) sits at the minimum 0: it no longer oscillates
E3_RISE_WINDOW, E3_VISIBLE_RISE = 50, 0.01   # "first rises": max of L_1…L_50 at least 1% above L(β0)


def e3_bounded_outcome(losses: np.ndarray, norms: np.ndarray) -> bool | None:
    """One run: True when the second half never exceeds 1.01 × the first tenth's max ‖β‖, False when it diverges
    (non-finite, or ≥ 2 × with bounded gradients meaning steady drift), None (void) in between: the horizon is too
    short to tell a slow drift from a bounded orbit."""
    if not (np.isfinite(losses).all() and np.isfinite(norms).all()):
        return False
    ratio = float(tail(norms).max() / norms[: len(norms) // 10].max())
    return True if ratio <= E3_BOUNDED else False if ratio >= E3_DIVERGING else None


def e3_visible_oscillation_rate(losses: np.ndarray) -> float:
    """convex.oscillation_rate of the second half; 0 for a run already at the minimum (tail < 1e-8·L(β0))."""
    eventual = tail(losses)
    return 0.0 if eventual.max() <= E3_CONVERGED * losses[0] else convex.oscillation_rate(eventual)


def e3_rise_outcome(losses: np.ndarray) -> bool | None:
    """True: the loss rises visibly (≥ 1%) above L(β0) within 50 steps; False: it never exceeds L(β0); None: a rise
    below 1% (rounding-sized or invisible in a plot)."""
    peak = float(losses[1: E3_RISE_WINDOW + 1].max())
    return True if peak >= (1 + E3_VISIBLE_RISE) * losses[0] else False if peak <= losses[0] else None


def e3_bounded_rule(outcomes) -> Ruling:
    return rules.counterexample_rule(
        outcomes, "E3: NDGM on the Huber loss never diverges", "seeds whose ‖β_k‖ stays bounded (tail/early max ≤ 1.01)",
        min_n=E3_MIN_SEEDS, void="void: 1.01 < tail/early max ‖β‖ < 2, undecided within the horizon")


def e3_faster_rule(slower_rates, faster_rates) -> Ruling:
    """Per seed: does the larger α oscillate strictly faster (visible oscillation rate) than the smaller one?"""
    return rules.unanimity_rule(
        [bool(b > a) for a, b in zip(slower_rates, faster_rates)], "E3: the loss oscillates faster as α grows",
        "seeds whose oscillation rate (direction flips, second half) is strictly higher at the larger α",
        min_n=E3_MIN_SEEDS)


def e3_rise_rule(outcomes) -> Ruling:
    return rules.unanimity_rule(
        outcomes, "E3 (v1): at α = 1 the loss first rises before the oscillations show",
        f"seeds whose loss exceeds L(β0) by ≥ {E3_VISIBLE_RISE:.0%} within {E3_RISE_WINDOW} steps",
        min_n=E3_MIN_SEEDS, void="void: a rise below 1%")


# --------------------------------------------------------------------------- L13
#: L13's float reading, fixed before the runs (see test_rmsprop_zeros_in_torch_floats).
L13_MARGIN = 0.01             # "probability 1", read with a 1% practical margin
L13_NONZERO_LEVEL = claim("L13").paper_value("probability that all entries stay non-zero") - L13_MARGIN
L13_MIN_ENTRIES = 300         # all n entries non-zero clears 0.99 at 95% only from n ≥ 299
#: The paper's own horizon at which γ^t is negligible (Prop B.5 proof).
L13_MIN_STEPS = claim("L14").paper_value("iteration used for the γ^t example")


def l13_nonzero_rule(never_zero: int, n: int, steps: int) -> Ruling:
    """Prop B.4 on one implementation: is the share of entries that never hit an exact 0 at least 99%?"""
    rule = "L13: entries β0 ~ U[−1,1] that RMSProp never sets to an exact 0 (Prop B.4: probability 1)"
    statistic = f"entries non-zero at every step t ≤ T (T = {steps})"
    if steps < L13_MIN_STEPS:
        return Ruling("inconclusive", rule, statistic, f"T ≥ {L13_MIN_STEPS}", n, {"T": steps},
                      f"T = {steps} < {L13_MIN_STEPS}: the step sizes α/√(1−γ^t) have not settled")
    return rules.share_rule(never_zero, n, L13_NONZERO_LEVEL, rule, statistic, min_n=L13_MIN_ENTRIES)


def l13_absorbing_rule(stays_zero) -> Ruling:
    """Table 1: 0 is absorbing. One outcome per entry that hit 0: is it still exactly 0 at T? One that left refutes."""
    return rules.counterexample_rule(
        [bool(s) for s in stays_zero], "L13: an RMSProp entry that hits 0 stays 0 (Table 1)",
        "entries exactly 0 at T among those exactly 0 at some step", min_n=1, void="")


# --------------------------------------------------------------------------- L16
#: L16's rule, fixed before the runs (see test_fig5_ordering_over_many_seeds): the paper says the order is what
#: Fig. 5 typically shows, read through the one table of the paper's words.
L16_WORDS = "typically"
L16_MIN_SEEDS = 30
L16_FINAL = claim("L16").paper_value("final iterations compared")   # the paper's "last 100"


def l16_ordering_rule(ordered: int, n: int, horizon: int, cycle_step: int, rmsprop_in_cycle: bool) -> Ruling:
    """Fig. 5 for one (λ1, horizon): do the final 100 losses typically keep the paper's order at every step?"""
    rule = f"L16: the Fig. 5 order of the RMSProp and NDGM loss curves over the final {L16_FINAL} iterations"
    first = horizon - L16_FINAL + 1
    statistic = f"seeds with the predicted curve strictly above at all of iterations {first}…{horizon}"
    threshold = f"the final {L16_FINAL} iterations lie in both eventual cycles"
    if first < cycle_step:
        return Ruling("inconclusive", rule, statistic, threshold, n,
                      {"horizon": horizon, "NDGM cycle from step": cycle_step},
                      f"NDGM reaches its cycle only at step {cycle_step}: the final {L16_FINAL} of {horizon} are transient")
    if not rmsprop_in_cycle:
        return Ruling("inconclusive", rule, statistic, threshold, n,
                      {"horizon": horizon}, "RMSProp has not settled into its 2-cycle (β_T ≠ β_{T−2})")
    return rules.by_words(L16_WORDS).decide(ordered, n, rule, statistic, min_n=L16_MIN_SEEDS)
