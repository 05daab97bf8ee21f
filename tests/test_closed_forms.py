"""Tests of gdcut.closed_forms: closed forms against exact simulation."""
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gdcut import closed_forms, recursions


@given(beta=st.lists(st.fractions(F(-1), F(1), max_denominator=50), min_size=1, max_size=4),
       alpha=st.fractions(F(1, 20), F(1), max_denominator=20), t=st.integers(0, 60))
def test_closed_form_iterate_equals_exact_run(beta, alpha, t):
    beta0 = np.array(beta, dtype=object)
    traj, _ = recursions.run(recursions.ndgm(alpha), lambda b: recursions.l1_subgradient(b, F(1)), beta0, t)
    assert list(closed_forms.ndgm_iterate(beta0, alpha, F(1), t)) == list(traj[-1])


def test_pair_and_start_for_the_worked_example():
    beta0 = np.array([F(5053, 10000)], dtype=object)
    upper, lower = closed_forms.oscillation_pair(beta0, F(1, 100), F(1))
    assert upper[0] == F(53, 10000) and lower[0] == F(-47, 10000)
    assert closed_forms.oscillation_start(beta0, F(1, 100), F(1)) == 50


def test_bounds_and_steps():
    assert closed_forms.fig5_loss_bounds(0.1, 0.01, 10) == pytest.approx({"ndgm": 1e-4, "rmsprop": 0.01})
    assert closed_forms.step_decay_total(0.01, 100, 0.5) == pytest.approx(2.0)
    assert closed_forms.rmsprop_second_moment(F(1, 2), F(2), 2) == 3
    assert closed_forms.common_phase_probability(3) == 0.25
