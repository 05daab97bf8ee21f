"""Tests of gdcut.recursions: exact first steps, agreement with torch.optim, argument checks."""
from fractions import Fraction as F

import numpy as np
import pytest
import torch

from gdcut import recursions, runs


def test_first_ndgm_steps_are_exact():
    beta0 = np.array([F(1, 3), F(-1, 4), F(0)], dtype=object)
    traj, _ = recursions.run(recursions.ndgm(F(1, 10)), lambda b: recursions.l1_subgradient(b, 1), beta0, 2)
    assert list(traj[2]) == [F(1, 3) - F(2, 10), F(-1, 4) + F(2, 10), 0]


@pytest.mark.parametrize("name, rule", [
    ("sgd", recursions.ndgm(0.05)),
    ("momentum", recursions.torch_momentum(0.05, 0.9)),
    ("rmsprop", recursions.rmsprop_torch(0.05)),
])
def test_rules_agree_with_torch_optim(name, rule):
    beta0 = torch.tensor(np.random.default_rng(0).uniform(-1, 1, (50, 3)))
    ours, _ = recursions.run(rule, lambda b: recursions.l1_subgradient(b, 0.7), beta0.numpy(), 60, record_last=1)
    theirs = runs.run_optimiser(lambda b: 0.7 * b.abs().sum(-1), beta0, name, 0.05, 60).final.numpy()
    assert np.allclose(ours[-1], theirs, atol=1e-9)


def test_soft_threshold_and_ista_reach_exact_zero():
    traj = recursions.ista_toy(np.array([0.25, -0.1]), 0.1, 1.0, 3)
    assert traj[3].tolist() == [0.0, 0.0] and traj[1][1] == 0


@pytest.mark.parametrize("call", [
    lambda: recursions.ndgm_toy(np.zeros(2), -1.0, 1.0, 3), lambda: recursions.ista_toy(np.zeros(2), 0.1, -1.0, 3),
    lambda: recursions.run(recursions.ndgm(0.1), lambda b: b, np.zeros(2), -1),
])
def test_invalid_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_high_precision_rmsprop_follows_torch_and_keeps_an_exact_zero():
    import torch

    from gdcut import optimisers

    beta0 = np.array([0.3, -0.7, 0.0])
    (before, last), smallest, digits = recursions.rmsprop_torch_high_precision(beta0, 2.0, 0.1, 0.99, 1e-8, 50)
    beta = torch.tensor(beta0, requires_grad=True)
    opt = optimisers.make_optimiser("rmsprop", [beta], 0.1)
    for _ in range(50):
        opt.zero_grad()
        (2.0 * beta.abs().sum()).backward()
        opt.step()
    assert np.allclose([float(b) for b in last], beta.detach().numpy(), atol=1e-12)
    assert last[2] == 0 and smallest[2] == 0 and digits == 40 + 1   # 0.99^50 ≈ 0.6: one digit more
    with pytest.raises(ValueError, match="steps"):
        recursions.rmsprop_torch_high_precision(beta0, 1.0, 0.1, 0.99, 1e-8, 0)


def test_default_setting_reads_torch_and_names_a_bad_argument():
    from gdcut import optimisers

    assert optimisers.default_setting("rmsprop", "eps") == 1e-8
    assert optimisers.default_setting("rmsprop", "alpha") == 0.99
    with pytest.raises(ValueError, match="setting"):
        optimisers.default_setting("rmsprop", "gamma")
    with pytest.raises(ValueError, match="optimiser"):
        optimisers.default_setting("lbfgs", "eps")
