"""gdcut.geometry: LP answers against hand-computed ones, argument checks."""
import numpy as np
import pytest

from gdcut import geometry

ABS = (np.array([[1.0], [-1.0]]), np.array([0.0, 0.0]))  # f(x) = |x|


def test_abs_minimum_and_mcmc():
    A, b = ABS
    value, point = geometry.max_affine_minimum(A, b)
    assert value == pytest.approx(0.0) and point == pytest.approx([0.0])
    assert geometry.min_common_value(A, b, [0.0]) == pytest.approx(0.0)
    assert geometry.max_crossing(A, b, [0.0])[0] == pytest.approx(0.0)
    assert geometry.max_crossing(A, b, [2.0])[0] == pytest.approx(2.0)  # q* = w* = f(c) at any c


def test_abs_supporting_slopes_are_the_interval():
    A, b = ABS
    assert geometry.is_supporting_slope(A, b, [0.0], [0.5])
    assert geometry.is_supporting_slope(A, b, [0.0], [-1.0])
    assert not geometry.is_supporting_slope(A, b, [0.0], [1.01])
    assert geometry.crossing_value(A, b, [0.0], [-2.0]) == -np.inf
    assert geometry.subdifferential_width(A, b, [0.0], [1.0]) == pytest.approx(2.0)
    assert geometry.subdifferential_width(A, b, [1.0], [1.0]) == pytest.approx(0.0)
    assert not geometry.vertical_hyperplane_supports(A, b, [0.0], [1.0])
    with pytest.raises(ValueError, match="normal must be non-zero"):
        geometry.vertical_hyperplane_supports(A, b, [0.0], [0.0])


def test_relu_regression_subdifferential_at_zero():
    Z = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([-1.0, -0.5])
    # f'(0; e1) = 2 * 1 * 1 + 0 = 2, f'(0; -e1) = 0: the subdifferential's first coordinate is [0, 2].
    assert geometry.relu_regression_directional_derivative_at_zero(Z, y, 0.0, [1.0, 0.0]) == pytest.approx(2.0)
    assert geometry.relu_regression_directional_derivative_at_zero(Z, y, 0.0, [-1.0, 0.0]) == pytest.approx(0.0)
    assert geometry.in_relu_regression_subdifferential_at_zero(Z, y, 0.0, [2.0, 1.0])
    assert not geometry.in_relu_regression_subdifferential_at_zero(Z, y, 0.0, [2.1, 0.0])
    assert geometry.in_relu_regression_subdifferential_at_zero(Z, y, 0.5, [-0.5, 1.5])


def test_one_sided_derivatives_of_abs():
    plus, minus = geometry.one_sided_derivatives(lambda x: float(np.abs(x).sum()), [0.0], [1.0])
    assert plus == pytest.approx(1.0) and minus == pytest.approx(1.0)


@pytest.mark.parametrize("call", [
    lambda: geometry.max_affine_minimum(np.array([[1.0]]), np.array([0.0])),  # unbounded below
    lambda: geometry.min_common_value(np.ones((2, 2)), np.ones(3), np.zeros(2)),
    lambda: geometry.max_crossing(np.ones((2, 2)), np.ones(2), np.zeros(3)),
    lambda: geometry.in_relu_regression_subdifferential_at_zero(np.eye(2), np.array([1.0, -1.0]), 0.0, np.zeros(2)),
    lambda: geometry.relu_regression_directional_derivative_at_zero(np.eye(2), np.zeros(2), -1.0, np.zeros(2)),
    lambda: geometry.one_sided_derivatives(abs, 0.0, 1.0, h=0.0),
])
def test_rejects_invalid_arguments(call):
    with pytest.raises(ValueError):
        call()
