"""gdcut.runs: exact first steps against closed forms, agreement with the hand-written reference, properties."""
import math

import numpy as np
import pytest
import torch

from gdcut import convex, optimisers, runs


def _abs_loss(x):
    return x.abs().sum(-1)


def _kinked_quadratic():
    generator = torch.Generator().manual_seed(2)
    A = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    x0 = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    # x·A_i as an elementwise product and a sum, not x @ A.T: a BLAS matmul picks its kernel by the number of
    # rows (on AVX512, 6 rows and 1 row round differently), which would test BLAS rather than the runner
    return (lambda x: (x.unsqueeze(-2) * A).sum(-1).amax(-1) + 0.1 * (x**2).sum(-1)), x0


# --------------------------------------------------------------------------- tier 1: closed forms
def test_sgd_first_steps_on_abs():
    # |x| from 0.3 with lr = 0.25: 0.3 -> 0.05 -> -0.2 -> 0.05 (torch.abs has derivative 0 only at 0).
    run = runs.run_optimiser(_abs_loss, torch.tensor([[0.3]], dtype=torch.float64), "sgd", 0.25, 3, record_last=4,
                             gradient_norms=True)
    assert torch.allclose(run.last[:, 0, 0], torch.tensor([0.3, 0.05, -0.2, 0.05], dtype=torch.float64))
    assert torch.allclose(run.losses[:, 0], torch.tensor([0.3, 0.05, 0.2, 0.05], dtype=torch.float64))
    assert torch.equal(run.gradient_norms[:, 0], torch.ones(4, dtype=torch.float64))  # |sign| = 1 off the kink


def test_momentum_rmsprop_and_adam_first_steps_on_abs():
    x0 = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    lr, sign = 0.01, torch.sign(x0)
    momentum = runs.run_optimiser(_abs_loss, x0, "momentum", lr, 2, record_last=3)
    assert torch.allclose(momentum.last[1], x0 - lr * sign)
    assert torch.allclose(momentum.last[2], x0 - lr * sign - lr * (0.9 + 1) * sign)  # buf_2 = 0.9 g + g
    # RMSprop (torch defaults: smoothing 0.99, eps 1e-8): v_1 = 0.01 g², step lr g / (sqrt(v_1) + eps)
    rmsprop = runs.run_optimiser(_abs_loss, x0, "rmsprop", lr, 1, record_last=2)
    assert torch.allclose(rmsprop.final, x0 - lr * sign / (math.sqrt(0.01) + 1e-8), rtol=0, atol=1e-15)
    assert torch.allclose(rmsprop.state("square_avg"), torch.full_like(x0, 0.01))
    # Adam: bias correction makes the first step lr g / (|g| + eps)
    adam = runs.run_optimiser(_abs_loss, x0, "adam", lr, 1)
    assert torch.allclose(adam.final, x0 - lr * sign / (1 + 1e-8), rtol=0, atol=1e-15)


def test_transient_exact_zero_is_recorded():
    # momentum from 0.25 with lr = 0.25: 0.25 -> 0 (step 1) -> -0.9·0.25 (the buffer carries it away from 0)
    run = runs.run_optimiser(_abs_loss, torch.tensor([[0.25, 0.3]], dtype=torch.float64), "momentum", 0.25, 2,
                             track_zeros=True)
    assert run.ever_zero.tolist() == [[True, False]] and run.final[0, 0] == -0.9 * 0.25
    untracked = runs.run_optimiser(_abs_loss, torch.tensor([[0.25, 0.3]], dtype=torch.float64), "momentum", 0.25, 2)
    assert untracked.ever_zero is None


# --------------------------------------------------------------------------- tier 2: the reference
def test_sgd_agrees_with_the_hand_written_gradient_method():
    loss, x0 = _kinked_quadratic()
    rates = [0.01, 0.1, 0.5]
    run = runs.run_optimiser(loss, x0, "sgd", rates, 25, measures={"norm": lambda x: x.norm(dim=-1)},
                             record_last=26)
    for j, rate in enumerate(rates):
        alone = convex.gradient_method(loss, x0[j:j + 1], rate, 25, keep_every=1)
        assert torch.allclose(run.losses[:, j], alone.losses[:, 0], atol=1e-12)
        assert torch.allclose(run.last[:, j], alone.iterates[:, 0], atol=1e-12)
        assert torch.allclose(run.measures["norm"][:, j], alone.iterates[:, 0].norm(dim=-1), atol=1e-12)


def test_scheduler_and_gradient_norm_agree_with_a_per_step_schedule():
    loss, x0 = _kinked_quadratic()
    steps, alpha = 30, 0.2
    decay = lambda k: 1 / np.sqrt(k + 1)  # noqa: E731
    run = runs.run_optimiser(loss, x0, "sgd", alpha, steps, gradient_norms=True,
                             scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, decay))
    reference = convex.gradient_method(loss, x0, [alpha * decay(k) for k in range(steps)], steps)
    assert torch.allclose(run.losses, reference.losses, atol=1e-12)
    assert torch.allclose(run.gradient_norms[:-1], reference.gradient_norms, atol=1e-12)
    final = run.final.clone().requires_grad_(True)  # the last iterate's gradient, which no step takes
    (grad,) = torch.autograd.grad(loss(final).sum(), final)
    assert torch.allclose(run.gradient_norms[-1], grad.norm(dim=-1), atol=1e-12)
    assert runs.run_optimiser(loss, x0, "sgd", alpha, steps).gradient_norms is None


# --------------------------------------------------------------------------- tier 3: properties
@pytest.mark.parametrize("name", sorted(optimisers.OPTIMISERS))
def test_per_trial_rates_are_bitwise_separate_runs(name):
    loss, x0 = _kinked_quadratic()
    x0 = torch.cat([x0, x0])
    rates = [0.1, 0.01, 0.1, 0.5, 0.01, 0.3]  # unsorted and repeated: rows are regrouped and put back
    together = runs.run_optimiser(loss, x0, name, rates, 20)
    for j, rate in enumerate(rates):
        alone = runs.run_optimiser(loss, x0[j:j + 1], name, rate, 20)
        assert torch.equal(together.final[j], alone.final[0])
        assert torch.equal(together.losses[:, j], alone.losses[:, 0])
    if name == "rmsprop":
        assert together.state("square_avg").shape == x0.shape


@pytest.mark.parametrize("name", sorted(optimisers.OPTIMISERS))
def test_problems_side_by_side_are_bitwise_separate_runs(name):
    loss, x0 = _kinked_quadratic()
    shifted = lambda x: loss(x - 0.5)  # noqa: E731
    together = runs.run_optimiser(runs.side_by_side([(loss, 2), (shifted, 3)]), torch.cat([x0[:2], x0[:3]]), name,
                                  [0.1, 0.2, 0.1, 0.3, 0.2], 20)
    for j, (fn, start, rate) in enumerate([(loss, 0, 0.1), (loss, 1, 0.2), (shifted, 0, 0.1), (shifted, 1, 0.3),
                                           (shifted, 2, 0.2)]):
        alone = runs.run_optimiser(fn, x0[start:start + 1], name, rate, 20)
        assert torch.equal(together.final[j], alone.final[0])
        assert torch.equal(together.losses[:, j], alone.losses[:, 0])


def test_a_loss_without_one_value_per_trial_is_a_value_error():
    x0 = torch.zeros(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="loss_fn must return one loss per trial"):
        runs.run_optimiser(lambda b: b.abs().sum(), x0, "sgd", 0.1, 2)                 # a scalar
    with pytest.raises(ValueError, match="side_by_side: the pieces hold 3 trials"):
        runs.run_optimiser(runs.side_by_side([(_abs_loss, 2), (_abs_loss, 1)]), x0, "sgd", 0.1, 2)
    with pytest.raises(ValueError, match="side_by_side: the pieces hold 6 trials"):
        runs.run_optimiser(runs.side_by_side([(_abs_loss, 3), (_abs_loss, 3)]), x0, "sgd", 0.1, 2)


def test_every_optimiser_of_the_registry_has_one_display_name():
    assert optimisers.DISPLAY_NAMES.keys() == optimisers.OPTIMISERS.keys()
    assert len(set(optimisers.DISPLAY_NAMES.values())) == len(optimisers.DISPLAY_NAMES)


def test_shapes_dtype_and_record_last():
    x0 = torch.rand(5, 3, generator=torch.Generator().manual_seed(0)).float()
    run = runs.run_optimiser(_abs_loss, x0, "adam", 0.01, 4, record_last=10,
                             measures={"max": lambda x: x.abs().amax(-1)})
    assert run.last.shape == (5, 5, 3) and run.last.dtype == torch.float32  # x_0 included when the run is short
    assert run.losses.shape == (5, 5) and run.losses.dtype == torch.float64
    assert run.measures["max"].shape == (5, 5) and torch.equal(run.last[0], x0)
    assert run.torch_optimiser.param_groups[0]["lr"] == 0.01


def test_the_runner_leaves_its_start_alone():
    x0 = torch.ones(2, 2, dtype=torch.float64)
    runs.run_optimiser(_abs_loss, x0, "sgd", [0.1, 0.2], 3)
    assert torch.equal(x0, torch.ones(2, 2, dtype=torch.float64))
