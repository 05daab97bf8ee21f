"""gdcut.rules: the pre-registered decision rules, on planted samples whose answer is known."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from gdcut import rules

RULE = dict(rule="a planted rule", statistic="gap")


def test_clear_superiority_supports():
    ruling = rules.paired_superiority([1.0, 1.1, 0.9, 1.05, 0.95], margin=0.1, **RULE)
    assert ruling.decision == "supports" and ruling.n == 5
    assert ruling.values["lower bound"] > 0


def test_tiny_gap_with_tight_bounds_refutes_superiority():
    ruling = rules.paired_superiority([0.001, 0.002, 0.0015, 0.001, 0.002], margin=0.1, **RULE)
    assert ruling.decision == "refutes"
    assert ruling.values["upper bound"] < 0.1


def test_noisy_gaps_are_inconclusive_with_a_reason():
    ruling = rules.paired_superiority([1.0, -1.0, 0.5, -0.6, 0.2], margin=0.1, **RULE)
    assert ruling.decision == "inconclusive" and "power" in ruling.reason


def test_fewer_pairs_than_the_rule_needs_are_inconclusive():
    ruling = rules.paired_superiority([1.0, 1.0, 1.0], margin=0.1, **RULE)
    assert ruling.decision == "inconclusive" and "fewer than the 5" in ruling.reason


def test_equivalence_inside_the_margin_supports_and_outside_refutes():
    assert rules.paired_equivalence([0.001, -0.002, 0.0, 0.001, -0.001], margin=0.05, **RULE).decision == "supports"
    assert rules.paired_equivalence([0.5, 0.6, 0.55, 0.52, 0.58], margin=0.05, **RULE).decision == "refutes"
    assert rules.paired_equivalence([0.5, -0.6, 0.3, -0.2, 0.1], margin=0.05, **RULE).decision == "inconclusive"


def test_equivalence_is_reachable_with_exactly_equal_curves():
    # Identical runs (gap 0 in every seed) must be able to come out "indistinguishable".
    assert rules.paired_equivalence([0.0] * 5, margin=0.01, **RULE).decision == "supports"


def test_welch_difference_decides_both_ways():
    assert rules.difference_superiority([2.0, 2.1, 1.9, 2.05, 1.95], [1.0, 1.1, 0.9, 1.05, 0.95], margin=0.5,
                                        **RULE).decision == "supports"
    assert rules.difference_superiority([1.0, 1.01, 0.99, 1.0, 1.0], [1.0, 1.01, 0.99, 1.0, 1.0], margin=0.5,
                                        **RULE).decision == "refutes"


def test_a_deciding_ruling_says_how_far_its_bounds_lie_past_the_edge_as_a_share_of_the_margin():
    refuted = rules.paired_equivalence([0.5, 0.6, 0.55, 0.52, 0.58], margin=0.05, **RULE)
    assert refuted.values[rules.CLEARANCE] == pytest.approx((refuted.values["lower bound"] - 0.05) / 0.05)
    mirrored = rules.paired_equivalence([-0.5, -0.6, -0.55, -0.52, -0.58], margin=0.05, **RULE)
    assert mirrored.values[rules.CLEARANCE] == pytest.approx(refuted.values[rules.CLEARANCE])
    held = rules.paired_equivalence([0.001, -0.002, 0.0, 0.001, -0.001], margin=0.05, **RULE)
    low, high = held.values["lower bound"], held.values["upper bound"]
    assert held.values[rules.CLEARANCE] == pytest.approx(min(low + 0.05, 0.05 - high) / 0.05)
    small = rules.paired_superiority([0.001, 0.002, 0.0015, 0.001, 0.002], margin=0.1, **RULE)
    assert small.values[rules.CLEARANCE] == pytest.approx((0.1 - small.values["upper bound"]) / 0.1)
    large = rules.paired_superiority([1.0, 1.1, 0.9, 1.05, 0.95], margin=0.1, **RULE)
    assert large.values[rules.CLEARANCE] == pytest.approx(min(large.values["lower bound"], 1.0 - 0.1) / 0.1)
    welch = rules.difference_superiority([2.0, 2.1, 1.9, 2.05, 1.95], [1.0, 1.1, 0.9, 1.05, 0.95], margin=0.5, **RULE)
    assert welch.values[rules.CLEARANCE] == pytest.approx(min(welch.values["lower bound"], 1.0 - 0.5) / 0.5)
    undecided = rules.paired_superiority([1.0, -1.0, 0.5, -0.6, 0.2], margin=0.1, **RULE)
    assert rules.CLEARANCE not in undecided.values  # only a decision has an edge it lies past


def test_a_nan_statistic_is_a_programming_error_not_a_decision():
    with pytest.raises(ValueError, match="non-finite"):
        rules.paired_superiority([1.0, math.nan, 1.0, 1.0, 1.0], margin=0.1, **RULE)
    with pytest.raises(ValueError, match="values"):
        rules.Ruling("supports", "r", "s", "t", 5, {"p": math.nan})


@pytest.mark.parametrize("field, value, message", [
    ("decision", "maybe", "decision must be one of"),
    ("rule", "", "rule must be"),
    ("n", -1, "n must be"),
    ("n", True, "n must be"),
])
def test_a_malformed_ruling_names_the_field(field, value, message):
    fields = dict(decision="supports", rule="r", statistic="s", threshold="t", n=5)
    fields[field] = value
    with pytest.raises(ValueError, match=message):
        rules.Ruling(**fields)


def test_an_inconclusive_ruling_says_why():
    with pytest.raises(ValueError, match="reason"):
        rules.Ruling("inconclusive", "r", "s", "t", 5)


@pytest.mark.parametrize("margin", [0, -1.0, math.inf, "1"])
def test_margin_must_be_positive_and_finite(margin):
    with pytest.raises(ValueError, match="margin"):
        rules.paired_superiority([1.0] * 5, margin=margin, **RULE)


@given(gaps=st.lists(st.floats(-10, 10, allow_nan=False), min_size=5, max_size=12),
       shift=st.floats(0.0, 5.0), margin=st.floats(0.01, 1.0))
def test_superiority_and_its_refutation_never_both_hold_and_shifting_up_never_turns_support_away(gaps, shift, margin):
    before = rules.paired_superiority(gaps, margin, **RULE)
    after = rules.paired_superiority([g + shift for g in gaps], margin, **RULE)
    note(f"{before.decision} -> {after.decision}")
    order = {"refutes": 0, "inconclusive": 1, "supports": 2}
    assert order[after.decision] >= order[before.decision]
