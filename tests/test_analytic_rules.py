"""The pre-registered rules of the analytic claims L13, L16, C1, E3 (``gdcut.analytic_rules``) on planted outcomes.

Every decision of every rule is reachable.
"""
from __future__ import annotations

import numpy as np
import pytest

from gdcut import analytic_rules, closed_forms, rules


# --------------------------------------------------------------------------- generic share / sample rules
def test_share_bounds_are_exact_clopper_pearson_at_the_edges():
    assert rules.share_bounds(0, 100) == (0.0, pytest.approx(1 - 0.05 ** (1 / 100)))
    assert rules.share_bounds(100, 100) == (pytest.approx(0.05 ** (1 / 100)), 1.0)
    lower, upper = rules.share_bounds(30, 100)
    assert lower < 0.3 < upper
    with pytest.raises(ValueError):
        rules.share_bounds(5, 4)


def test_share_rule_reaches_every_decision():
    kw = dict(rule="planted", statistic="share")
    assert rules.share_rule(100, 100, 0.9, **kw).decision == "supports"
    assert rules.share_rule(50, 100, 0.9, **kw).decision == "refutes"
    assert rules.share_rule(90, 100, 0.9, **kw).decision == "inconclusive"
    assert rules.share_rule(10, 10, 0.9, min_n=30, **kw).decision == "inconclusive"


def test_sample_rules_reach_every_decision():
    kw = dict(rule="planted", statistic="seeds", min_n=2)
    assert rules.unanimity_rule([True, np.bool_(True)], **kw).decision == "supports"
    assert rules.unanimity_rule([False, False, None], **kw).decision == "refutes"
    assert rules.unanimity_rule([True, False], **kw).decision == "inconclusive"
    assert rules.unanimity_rule([True, None], **kw).decision == "inconclusive"
    assert rules.counterexample_rule([True, True], **kw).decision == "supports"
    assert rules.counterexample_rule([True, False, True], **kw).decision == "refutes"
    assert rules.counterexample_rule([True, None], **kw).decision == "inconclusive"
    with pytest.raises(ValueError):
        rules.unanimity_rule([1.0, True], **kw)


# --------------------------------------------------------------------------- L13
def test_l13_rules_reach_every_decision():
    assert analytic_rules.l13_nonzero_rule(2500, 2500, 2500).decision == "supports"     # no entry ever 0
    assert analytic_rules.l13_nonzero_rule(302, 2500, 2500).decision == "refutes"       # most entries hit 0
    assert analytic_rules.l13_nonzero_rule(2480, 2500, 2500).decision == "inconclusive"  # ~1%: cannot tell
    assert analytic_rules.l13_nonzero_rule(100, 100, 2500).decision == "inconclusive"    # too few entries
    assert analytic_rules.l13_nonzero_rule(2500, 2500, 500).decision == "inconclusive"   # horizon too short
    assert analytic_rules.l13_absorbing_rule([True] * 10).decision == "supports"
    assert analytic_rules.l13_absorbing_rule([True] * 9 + [False]).decision == "refutes"
    assert analytic_rules.l13_absorbing_rule([]).decision == "inconclusive"


# --------------------------------------------------------------------------- L16
def test_l16_rule_reaches_every_decision():
    assert analytic_rules.l16_ordering_rule(500, 500, 100_000, 10_000, True).decision == "supports"
    assert analytic_rules.l16_ordering_rule(364, 500, 100_000, 10_000, True).decision == "supports"  # 73% > 1/2
    assert analytic_rules.l16_ordering_rule(200, 500, 100_000, 10_000, True).decision == "refutes"
    assert analytic_rules.l16_ordering_rule(255, 500, 100_000, 10_000, True).decision == "inconclusive"
    assert analytic_rules.l16_ordering_rule(20, 20, 100_000, 10_000, True).decision == "inconclusive"
    assert analytic_rules.l16_ordering_rule(500, 500, 2_500, 10_000, True).decision == "inconclusive"
    assert analytic_rules.l16_ordering_rule(500, 500, 100_000, 10_000, False).decision == "inconclusive"
    assert closed_forms.ndgm_cycle_step(np.array([[0.95, -0.2]]), 0.1, 1e-3) == 9501


# --------------------------------------------------------------------------- C1
def test_c1_rule_reaches_every_decision():
    eps = float(np.finfo(np.float64).eps)
    falling, escaping = np.array([3.0, 2.0, 1.5, 1.4]), np.array([0.9, 1.2, 1.3, 1.3])
    both = analytic_rules.c1_seed_outcome(falling, escaping, eps)
    rises = analytic_rules.c1_seed_outcome(np.array([3.0, 2.0, 2.5, 1.0]), escaping, eps)
    captured = analytic_rules.c1_seed_outcome(falling, np.array([0.9, 0.8, 0.7, 0.7]), eps)
    rounding = analytic_rules.c1_seed_outcome(np.array([3.0, 2.0, 2.0 * (1 + eps), 1.0]), escaping, eps)
    assert (both, rises, captured, rounding) == (True, False, None, True)
    assert analytic_rules.c1_seed_outcome(falling, np.array([1.2, 1.3, 1.3, 1.3]), eps) is None  # premise ‖β0‖∞ < 1 unmet
    assert analytic_rules.c1_rule([both] * 3, 1000).decision == "supports"
    assert analytic_rules.c1_rule([rises] * 3, 1000).decision == "refutes"
    assert analytic_rules.c1_rule([both, both, rises], 1000).decision == "inconclusive"
    assert analytic_rules.c1_rule([both, both, captured], 1000).decision == "inconclusive"


# --------------------------------------------------------------------------- E3
def test_e3_rules_reach_every_decision():
    steps = 100
    flat = np.ones(steps + 1)
    drift = np.linspace(1, 5, steps + 1)
    slow = np.linspace(1, 1.3, steps + 1)
    finite = np.ones(steps + 1)
    assert analytic_rules.e3_bounded_outcome(finite, flat) is True
    assert analytic_rules.e3_bounded_outcome(finite, drift) is False
    assert analytic_rules.e3_bounded_outcome(finite * np.inf, flat) is False
    assert analytic_rules.e3_bounded_outcome(finite, slow) is None
    assert analytic_rules.e3_bounded_rule([True, True]).decision == "supports"
    assert analytic_rules.e3_bounded_rule([True, False]).decision == "refutes"
    assert analytic_rules.e3_bounded_rule([True, None]).decision == "inconclusive"

    period2 = 1 + 0.5 * (np.arange(steps + 1) % 2)
    converged = np.r_[1.0, np.full(steps, 1e-12) * (1 + 0.5 * (np.arange(steps) % 2))]
    assert analytic_rules.e3_visible_oscillation_rate(period2) == 1.0
    assert analytic_rules.e3_visible_oscillation_rate(converged) == 0.0
    assert analytic_rules.e3_faster_rule([0.0, 0.0], [1.0, 1.0]).decision == "supports"
    assert analytic_rules.e3_faster_rule([1.0, 1.0], [1.0, 1.0]).decision == "refutes"
    assert analytic_rules.e3_faster_rule([0.0, 1.0], [1.0, 1.0]).decision == "inconclusive"

    falls = np.linspace(2, 1, 60)
    climbs = np.r_[1.0, 1.5, np.linspace(1.4, 0.5, 58)]
    tiny = np.r_[1.0, 1.001, np.linspace(0.99, 0.5, 58)]
    assert (analytic_rules.e3_rise_outcome(falls), analytic_rules.e3_rise_outcome(climbs), analytic_rules.e3_rise_outcome(tiny)) == (False, True, None)
    assert analytic_rules.e3_rise_rule([True, True]).decision == "supports"
    assert analytic_rules.e3_rise_rule([False, False]).decision == "refutes"
    assert analytic_rules.e3_rise_rule([True, False]).decision == "inconclusive"
    assert analytic_rules.e3_rise_rule([True, None]).decision == "inconclusive"
