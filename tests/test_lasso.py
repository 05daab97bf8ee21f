"""Tests of gdcut.lasso: sklearn scaling, ISTA reaches the optimum, argument checks."""
import numpy as np
import pytest

from gdcut import lasso


def small_instance():
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (15, 8)), rng.uniform(-1, 1, 15)


def test_sklearn_optimum_satisfies_the_optimality_conditions_of_the_1_over_n_loss():
    W, y = small_instance()
    lam = 0.05
    beta = lasso.sklearn_optimum(W, y, lam)
    grad = lasso.smooth_gradient(W, y, beta[None])[0]
    active = beta != 0
    assert np.allclose(grad[active], -lam * np.sign(beta[active]), atol=1e-8)
    assert (np.abs(grad[~active]) <= lam + 1e-8).all()


def test_ista_matches_sklearn_and_lambda_max_gives_zero():
    W, y = small_instance()
    step = 0.9 / lasso.smooth_lipschitz(W)
    beta = lasso.ista(W, y, 0.05, step, np.zeros((1, 8)), 20_000)[0]
    assert np.allclose(beta, lasso.sklearn_optimum(W, y, 0.05), atol=1e-7)
    assert not lasso.sklearn_optimum(W, y, lasso.lambda_max(W, y) * 1.01).any()


def test_invalid_arguments_raise():
    W, y = small_instance()
    with pytest.raises(ValueError):
        lasso.ndgm(W, y[:3], 0.1, 0.1, np.zeros((1, 8)), 10)
    with pytest.raises(ValueError):
        lasso.ista(W, y, -0.1, 0.1, np.zeros((1, 8)), 10)
