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
