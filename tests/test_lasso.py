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


def test_vectorised_ndgm_matches_torch_sgd_on_autograd_of_l4():
    """The recursion the L6/L7 claims run is torch.optim.SGD on autograd of eq. 15 (v2 App. B.2)."""
    import torch

    from gdcut import problems, runs
    from gdcut.ledger.registry import claim
    from gdcut.losses import l1_penalty, lasso_loss

    W, y = problems.general_lasso_instance(0)
    start = problems.toy_lasso_initialisations(3, W.shape[1], seed=100)
    lambdas = (0.01, 0.1, 10.0)
    lam = torch.tensor(lambdas, dtype=torch.float64)[:, None]
    run = runs.run_optimiser(lambda b: lasso_loss(b, W, y, 0.0) + l1_penalty(b, lam), start, "sgd", 1e-2, 200)
    ours = lasso.ndgm(W.numpy(), y.numpy(), lambdas, 1e-2, start.numpy(), 200)
    deviation = np.abs(ours - run.final.numpy()).max()
    assert deviation <= claim("L6").paper_value("deviation of torch SGD from NDGM on eq. 15") + 1e-9


def test_ndgm_horizon_is_twice_the_penalty_travel_time_plus_the_smooth_settling_time():
    beta0 = np.array([[0.5, -1.0]])
    assert lasso.ndgm_horizon(beta0, 0.01, 1.0) == 2 * 100 + 6_000
    assert lasso.ndgm_horizon(np.zeros((1, 2)), 0.5, 1.0) == 120
    with pytest.raises(ValueError, match="alpha"):
        lasso.ndgm_horizon(beta0, 0.0, 1.0)


def test_window_norms_read_a_converged_band_as_stationary():
    W, y = small_instance()
    big = 2 * lasso.lambda_max(W, y)      # optimum 0: the band of width αλ1 around it
    means, final = lasso.ndgm_window_norms(W, y, big, 1e-3, np.ones((1, 8)) * 0.3, 20_000, 500, 5_000)
    assert means.shape == (2, 1) and final.shape == (1, 8)
    assert abs(means[1, 0] - means[0, 0]) <= 0.05 * means[1, 0]
    assert means[1, 0] <= 8 * 1e-3 * big
    with pytest.raises(ValueError, match="window"):
        lasso.ndgm_window_norms(W, y, big, 1e-3, np.ones((1, 8)), 10, 6, 5)
