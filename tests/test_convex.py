"""gdcut.convex: the bounds, the constants of the losses, the measures, argument checks.

The hand-written gradient_method is exercised in tests/test_runs.py, as the reference of gdcut.runs.
"""
import numpy as np
import pytest
import torch

from gdcut import convex


def test_best_iterate_bound_matches_formula():
    bound = convex.best_iterate_bound(2.0, [1.0, 3.0], [0.5, 0.25])
    assert bound == pytest.approx([(4 + 0.25) / 1.0, (4 + 0.25 + 0.5625) / 1.5])


def test_gd_smooth_bound_and_top_eigenvalue():
    assert convex.gd_smooth_bound(4.0, 1.0, 2) == pytest.approx([2.0, 1.0])
    assert convex.quadratic_top_eigenvalue(np.diag([1.0, 3.0])) == pytest.approx(3.0)


def test_huber_constants_bracket_sampled_gradient_differences():
    rng = np.random.default_rng(1)
    Z = rng.uniform(-1, 1, size=(6, 10))
    lower, upper = convex.huber_lipschitz_bounds(Z, sign_searches=4)
    assert 0 < lower <= upper
    smooth = convex.huber_smoothness(Z)
    from gdcut.losses import huber_loss
    Zt, y = torch.tensor(Z), torch.tensor(rng.uniform(-1, 1, 6))
    def grad(beta):
        beta = torch.tensor(beta, requires_grad=True)
        huber_loss(beta, Zt, y).backward()
        return beta.grad.numpy()
    for _ in range(20):
        a, b = rng.normal(size=10) * 3, rng.normal(size=10) * 3
        assert np.linalg.norm(grad(a)) <= upper + 1e-12
        assert np.linalg.norm(grad(a) - grad(b)) <= smooth * np.linalg.norm(a - b) + 1e-12


def test_measures():
    assert convex.iterations_to_accuracy([3, 2, 0.5, 0.1], 0.5) == 2
    assert convex.iterations_to_accuracy([3, 2], 0.5) is None
    assert convex.power_law_exponent([1, 10, 100], [1, 100, 1e4]) == pytest.approx(2.0)
    assert convex.oscillation_rate([0, 1, 0, 1, 0]) == 1.0
    assert convex.oscillation_rate([4, 3, 2, 1]) == 0.0
    assert convex.sharp_max_affine_limsup_bound(1.0, 2.0, 1.0) == pytest.approx(8.0)


@pytest.mark.parametrize("call", [
    lambda: convex.iterations_to_accuracy([1.0], -1.0),
    lambda: convex.oscillation_rate([1.0, 2.0]),
    lambda: convex.power_law_exponent([1.0], [1.0]),
])
def test_rejects_invalid_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_max_affine_sharpness_is_the_distance_to_the_hull_boundary():
    # 1-D: min(max a_i, −min a_i); 2-D diamond conv{±e1, ±e2}: its edges lie 1/√2 from 0.
    assert convex.max_affine_sharpness(np.array([[2.0], [-3.0]])) == 2.0
    diamond = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert convex.max_affine_sharpness(diamond) == pytest.approx(2**-0.5, rel=1e-12)


def test_max_affine_cycle_certifies_the_stored_e1_orbit_and_rejects_bad_input():
    from fractions import Fraction

    cycle = convex.max_affine_cycle([(-2, -3), (-2, 3), (3, -2)], (Fraction(1, 7), Fraction(2, 11)))
    assert cycle.period == 30 and max(cycle.gaps) / 13 == Fraction(1083, 1001)
    assert convex.max_affine_cycle([(1,), (-1,)], (0,)) is None  # starts at the kink: two active rows
    assert convex.max_affine_cycle([(1, 0), (2, 0), (3, 0)], (1, 0), max_steps=50) is None  # drifts: no repeat
    for bad in ([], [(1, 0), (1,)], [(0.5, 1)]):
        with pytest.raises(ValueError, match="rows"):
            convex.max_affine_cycle(bad, (0, 0))
    with pytest.raises(ValueError, match="start"):
        convex.max_affine_cycle([(1, 0), (-1, 0)], (0.5, 0))
    with pytest.raises(ValueError, match="max_steps"):
        convex.max_affine_cycle([(1, 0), (-1, 0)], (1, 0), max_steps=0)


def test_find_counterexample_finds_an_easy_one_and_rejects_bad_input():
    from hypothesis import strategies as st

    from gdcut import search

    found = search.find_counterexample(lambda x: x >= 0, st.tuples(st.integers(0, 10)), lambda inst: inst[0] / 5)
    assert found is not None and found[0][0] > 5
    assert search.find_counterexample(lambda x: True, st.tuples(st.integers(0, 3)), lambda inst: 0.0) is None
    with pytest.raises(ValueError, match="admissible"):
        search.find_counterexample(None, st.tuples(st.integers()), lambda inst: 0.0)
    with pytest.raises(ValueError, match="instances"):
        search.find_counterexample(lambda x: True, [1], lambda inst: 0.0)
