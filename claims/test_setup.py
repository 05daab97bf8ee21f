"""Setup and preliminaries (v1 §1-2, v2 §2-3): claims S1-S4."""
from __future__ import annotations

import itertools

import math

import numpy as np
import pytest
import torch
from hypothesis import event, given, note, target
from hypothesis import strategies as st
from torch.optim.lr_scheduler import LambdaLR, StepLR

from gdcut import optimisers
from gdcut.losses import RELU_VARIANTS, relu_regression_loss

pytestmark = pytest.mark.fast

DTYPE = torch.float64


# --------------------------------------------------------------------------- strategies
@st.composite
def relu_regression_instances(draw, non_positive_response: bool = True, penalised: bool = True):
    """(Z, y, λ1, λ2) for the loss of eq. 3, small enough to check exhaustively."""
    n = draw(st.integers(1, 6))
    p = draw(st.integers(1, 6))
    unit = st.floats(-1, 1, allow_nan=False, allow_subnormal=False)
    Z = torch.tensor(draw(st.lists(st.lists(unit, min_size=p, max_size=p), min_size=n, max_size=n)), dtype=DTYPE)
    low, high = (-1.0, 0.0) if non_positive_response else (-1.0, 1.0)
    y = torch.tensor(draw(st.lists(st.floats(low, high, allow_subnormal=False), min_size=n, max_size=n)), dtype=DTYPE)
    # A penalty is 0 or large enough to move L above rounding of ‖y‖² (1e-207 would vanish in float64).
    penalty = st.one_of(st.just(0.0), st.floats(1e-3, 10))
    lambda1, lambda2 = draw(penalty), draw(penalty)
    if penalised and lambda1 + lambda2 == 0:
        lambda1 = 1.0
    event(f"N {'<' if n < p else '>='} P")
    return Z, y, lambda1, lambda2


def parameter_vectors(p: int, scale: float = 10.0):
    return st.lists(st.floats(-scale, scale, allow_nan=False, allow_subnormal=False), min_size=p, max_size=p).map(
        lambda values: torch.tensor(values, dtype=DTYPE)
    )


def _loss(beta, instance, relu=torch.relu):
    Z, y, lambda1, lambda2 = instance
    return float(relu_regression_loss(beta, Z, y, lambda1, lambda2, relu=relu))


# --------------------------------------------------------------------------- S1
@pytest.mark.claim("S1")
@given(data=st.data(), instance=relu_regression_instances())
def test_relu_regression_loss_is_convex_for_non_positive_response(data, instance, evidence):
    evidence.condition("the paper's setting: eq. 3 with y ≤ 0, random instances, chord inequality in float64")
    p = instance[0].shape[1]
    beta, gamma = data.draw(parameter_vectors(p)), data.draw(parameter_vectors(p))
    t = data.draw(st.floats(0, 1))
    mixed = _loss(t * beta + (1 - t) * gamma, instance)
    chord = t * _loss(beta, instance) + (1 - t) * _loss(gamma, instance)
    note(f"L(mix)={mixed!r}, chord={chord!r}")
    target((mixed - chord) / (abs(chord) + 1e-12), label="relative convexity gap (must stay <= 0)")
    assert mixed <= chord + 1e-9 * (1 + abs(chord))


@pytest.mark.claim("S1")
@given(data=st.data(), instance=relu_regression_instances())
def test_zero_is_the_unique_minimiser_with_a_margin(data, instance, evidence):
    """L(β) - L(0) >= λ1‖β‖₁ + λ2‖β‖² > 0 for β != 0: each residual term can only grow when y <= 0."""
    Z, y, lambda1, lambda2 = instance
    # |β| >= 1e-3 keeps the margin (>= 1e-9) far above float64 rounding of L(0) = ‖y‖² <= 6.
    beta = data.draw(parameter_vectors(Z.shape[1]).filter(lambda b: bool(b.abs().max() > 1e-3)))
    gain = _loss(beta, instance) - _loss(torch.zeros_like(beta), instance)
    margin = lambda1 * float(beta.abs().sum()) + lambda2 * float((beta**2).sum())
    target(margin - gain, label="margin shortfall (must stay <= rounding)")
    assert gain > 0
    assert gain >= margin - 1e-9 * (1 + abs(margin) + float((y**2).sum()))


@pytest.mark.claim("S1")
def test_both_conditions_are_needed(evidence):
    """Without a penalty the minimiser is not unique; with a positive response the loss is not convex."""
    evidence.condition("float64; hand-picked instances showing each premise of S1 is necessary")
    # λ1 = λ2 = 0 and N < P: any β in the null space of Z has the loss of β = 0.
    Z = torch.tensor([[1.0, -1.0]], dtype=DTYPE)
    y = torch.tensor([-0.5], dtype=DTYPE)
    null_direction = torch.tensor([1.0, 1.0], dtype=DTYPE)
    unpenalised = (Z, y, 0.0, 0.0)
    assert _loss(null_direction, unpenalised) == _loss(torch.zeros(2, dtype=DTYPE), unpenalised)
    # y = 1 > 0, one sample: L(-1) = L(0) = 1 but L(1) = 0, so L(0) lies above the chord from -1 to 1.
    positive = (torch.ones(1, 1, dtype=DTYPE), torch.ones(1, dtype=DTYPE), 0.0, 0.0)
    points = {b: _loss(torch.tensor([b], dtype=DTYPE), positive) for b in (-1.0, 0.0, 1.0)}
    assert points[0.0] > (points[-1.0] + points[1.0]) / 2
    evidence.measure("unpenalised loss at a null-space β minus loss at 0", 0.0, paper=None,
                     condition="λ1 = λ2 = 0, Z = [[1, -1]]: minimiser not unique")
    evidence.measure("convexity gap at midpoint 0 (y = 1)", points[0.0] - (points[-1.0] + points[1.0]) / 2,
                     paper=None, condition="y > 0: eq. 3 is not convex, so y <= 0 is needed")


# --------------------------------------------------------------------------- S2
def _derivative_at_zero(relu) -> float:
    x = torch.zeros((), dtype=DTYPE, requires_grad=True)
    relu(x).backward()
    return float(x.grad)


@st.composite
def kink_points(draw):
    """An integer instance of eq. 3 and an integer β with z_0ᵀβ = 0 exactly (a kink of max(0, ·)).

    Integers keep every product exact in float64, so β sits on the kink, not next to it.
    """
    n, p = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    small = st.integers(-3, 3)
    Z = np.array(draw(st.lists(st.lists(small, min_size=p, max_size=p), min_size=n, max_size=n)), dtype=float)
    Z[0, 0] = draw(st.sampled_from([-1.0, 1.0]))
    beta = np.array(draw(st.lists(small, min_size=p, max_size=p)), dtype=float)
    beta[0] = -(Z[0, 1:] @ beta[1:]) / Z[0, 0]
    y = -np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    lambda1 = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
    lambda2 = draw(st.sampled_from([0.25, 1.0])) if lambda1 == 0 else draw(st.sampled_from([0.0, 0.25, 1.0]))
    event(f"β has {'some' if (beta == 0).any() else 'no'} zero entries (|·| kink too)")
    return (torch.tensor(Z, dtype=DTYPE), torch.tensor(y, dtype=DTYPE), lambda1, lambda2), torch.tensor(beta, dtype=DTYPE)


@pytest.mark.claim("S2")
@pytest.mark.parametrize("variant", sorted(RELU_VARIANTS))
@given(point=kink_points(), data=st.data())
def test_autograd_returns_a_subgradient_of_eq3_at_kinks(variant, point, data, evidence):
    evidence.condition("the paper's loss (eq. 3) at points where a ReLU sits exactly on its kink, each way of "
                       "writing max(0, ·) in torch, float64")
    instance, beta = point
    relu = RELU_VARIANTS[variant]
    Z = instance[0]
    assert float(Z[0] @ beta) == 0.0, "the strategy must place β on a kink"
    beta = beta.clone().requires_grad_(True)
    loss = relu_regression_loss(beta, *instance, relu=relu)
    (gradient,) = torch.autograd.grad(loss, beta)
    for _ in range(20):
        gamma = data.draw(parameter_vectors(beta.shape[0], scale=3.0))
        lower = float(loss.detach()) + float(gradient @ (gamma - beta.detach()))
        value = _loss(gamma, instance, relu)
        note(f"γ={gamma.tolist()}, L(γ)={value}, linear minorant={lower}")
        assert value >= lower - 1e-9 * (1 + abs(value))


@pytest.mark.claim("S2")
def test_each_way_of_writing_relu_returns_a_different_derivative_at_zero(evidence):
    evidence.condition("torch autograd, float64; derivative of max(0, x) at x = 0")
    derivatives = {name: _derivative_at_zero(relu) for name, relu in sorted(RELU_VARIANTS.items())}
    for name, value in derivatives.items():
        evidence.measure(f"d/dx at 0 via {name}", value, paper=None, condition="subdifferential of max(0, x) at 0 is [0, 1]")
    # Every value lies in the subdifferential [0, 1]; the spellings do not all agree, so the choice is visible.
    assert all(0.0 <= value <= 1.0 for value in derivatives.values())
    assert len(set(derivatives.values())) >= 2
    evidence.note("relu, clamp(min=0) and maximum(x, 0) agree as functions but not in what autograd returns at the kink"
                  f" ({', '.join(f'{k}: {v:g}' for k, v in derivatives.items())}); each value is a subgradient of"
                  " max(0, x), so NDGM on eq. 3 is a subgradient method whichever spelling is used.")


def _one_sided_derivatives_at_zero(f) -> tuple[float, float]:
    """(f'(0+), f'(0−)) from exact dyadic difference quotients: f is piecewise linear near 0 in these tests."""
    h = torch.tensor(2.0**-10, dtype=DTYPE)
    zero = torch.zeros((), dtype=DTYPE)
    return float((f(h) - f(zero)) / h), float((f(zero) - f(-h)) / h)


@pytest.mark.claim("S2", refutes=True)
def test_difference_of_relus_is_outside_the_premise(evidence):
    """f(x) = max(0, x) − max(0, −x) equals x: autograd can return 0 at 0, but f is differentiable, not a kink."""
    evidence.condition("f(x) = max(0, x) − max(0, −x) = x written with each spelling of max(0, ·); torch autograd, float64")
    returned = {}
    for name, relu in sorted(RELU_VARIANTS.items()):
        x = torch.zeros((), dtype=DTYPE, requires_grad=True)
        (relu(x) - relu(-x)).backward()
        returned[name] = float(x.grad)
    right, left = _one_sided_derivatives_at_zero(lambda x: RELU_VARIANTS["relu"](x) - RELU_VARIANTS["relu"](-x))
    evidence.premise("f is non-differentiable at the point (one-sided derivatives differ)", right != left)
    assert right == left == 1.0 and returned["relu"] == 0.0
    evidence.caveat(f"On the differentiable f(x) = x, spelled max(0, x) − max(0, −x), autograd returns "
                    f"{', '.join(f'{k}: {v:g}' for k, v in returned.items())} at 0 instead of f'(0) = 1: the chain rule "
                    "through a non-convex decomposition can miss even a gradient. Outside S2's premise (a kink).")


@pytest.mark.claim("S2", refutes=True)
def test_autograd_returns_a_non_subgradient_of_a_convex_kink(evidence):
    """f = 3u − v with u, v two spellings of max(0, x) is 2·max(0, x): convex, a kink at 0, ∂f(0) = [0, 2].

    Autograd returns 3u'(0) − v'(0); with relu (0) and maximum (1/2) that is −1/2, and f(−1) = 0 < (−1/2)(−1):
    the subgradient inequality fails, so the NDGM step is not a subgradient step.
    """
    evidence.origin("constructed", "3·u − v over pairs (u, v) of spellings of max(0, ·) with different derivatives at 0")
    evidence.condition("a convex loss written through two different torch spellings of max(0, ·): 2·max(0, x) as "
                       "3·ReLU(x) − maximum(x, 0)")
    rows, wrong = [], []
    for (first, u), (second, v) in itertools.permutations(sorted(RELU_VARIANTS.items()), 2):
        f = lambda x, u=u, v=v: 3 * u(x) - v(x)
        grid = torch.arange(-256, 257, dtype=DTYPE) / 128  # dyadic points: 3u − v is computed without rounding
        convex = bool(torch.equal(f(grid), 2 * torch.relu(grid)))
        right, left = _one_sided_derivatives_at_zero(f)
        x = torch.zeros((), dtype=DTYPE, requires_grad=True)
        f(x).backward()
        g = float(x.grad)
        subgradient = left <= g <= right  # ∂f(0) = [f'(0−), f'(0+)] for a convex function of one variable
        rows.append([f"3·{first} − {second}", convex, f"[{left:g}, {right:g}]", g, subgradient])
        if convex and right != left and not subgradient:
            wrong.append((first, second, g))
    evidence.table("Autograd at the kink of f = 3u − v = 2·max(0, x)",
                   header=["f", "f = 2·max(0, x) on the grid", "∂f(0)", "autograd f'(0)", "subgradient"], rows=rows)
    evidence.premise("f convex (equal to 2·max(0, x) on a grid through 0)", all(r[1] for r in rows))
    evidence.premise("f non-differentiable at 0 (one-sided derivatives 0 and 2)", all(r[2] == "[0, 2]" for r in rows))
    assert wrong, "some pair of spellings must give a non-subgradient for this to be a counterexample"
    first, second, g = wrong[0]
    assert 0.0 < g * -1.0  # f(−1) = 0 would have to be ≥ g·(−1)
    evidence.measure(f"autograd f'(0) for 3·{first} − {second}", g, paper="autograd f'(0) for a convex f with ∂f(0) = [0, 2]")
    evidence.note("For the paper's own losses (eq. 3, 7, 15: convex, non-decreasing outer functions of convex "
                  "max(0, ·) pieces, plus |·|) autograd does return subgradients (supporting tests); the identification "
                  "with the subgradient method fails once a convex loss is written through a non-convex decomposition.")


# --------------------------------------------------------------------------- S3
@st.composite
def step_decay_schedules(draw):
    """(initial lr, step size, decay factor) for torch's StepLR."""
    lr = draw(st.floats(1e-4, 1.0))
    step_size = draw(st.integers(1, 50))
    gamma = draw(st.floats(0.05, 0.95))
    return lr, step_size, gamma


@pytest.mark.claim("S3")
@given(schedule=step_decay_schedules())
def test_steplr_learning_rates_are_summable(schedule, evidence):
    lr, step_size, gamma = schedule
    steps = 1000
    rates = np.array(optimisers.scheduled_rates(lr, steps, lambda opt: StepLR(opt, step_size, gamma)))
    series_limit = lr * step_size / (1 - gamma)  # Σ_t lr·γ^⌊t/s⌋ = lr·s/(1-γ)
    partial = np.cumsum(rates)
    note(f"partial sum {partial[-1]!r}, limit {series_limit!r}")
    assert partial[-1] <= series_limit * (1 + 1e-9)
    # Bounded partial sums: Σα_t < ∞, so Davis et al.'s Σα_t = ∞ fails.
    tail_mass = series_limit - partial[-1]
    assert tail_mass <= series_limit * (gamma ** (steps // step_size) + 1e-12)


@pytest.mark.claim("S3")
def test_steplr_versus_a_diminishing_schedule(evidence):
    lr, step_size, gamma, steps = 0.1, 30, 0.1, 20000
    evidence.condition("torch.optim.lr_scheduler.StepLR driving torch.optim.SGD; a rate of 0.1 cut tenfold every 30 steps"
                       " (the example in torch's StepLR docstring); 20,000 steps")
    rates = np.array(optimisers.scheduled_rates(lr, steps, lambda opt: StepLR(opt, step_size, gamma)))
    limit = lr * step_size / (1 - gamma)
    evidence.measure("Σ lr_t over 20,000 StepLR steps", float(rates.sum()), paper=None)
    evidence.measure("closed form lr·s/(1-γ)", limit, paper=None)
    # A 1/(t+1) schedule via LambdaLR: the partial sums grow like log t, without bound.
    harmonic = optimisers.scheduled_rates(lr, steps, lambda opt: LambdaLR(opt, lambda t: 1.0 / (t + 1)))
    total = float(np.cumsum(harmonic)[-1])  # summed in step order, as a training loop accumulates it
    evidence.measure("Σ lr_t over 20,000 LambdaLR(1/(t+1)) steps", total, paper=None,
                     condition="diminishing, Σα_t = ∞: grows like lr·ln t")
    assert rates.sum() == pytest.approx(limit, rel=1e-9)
    assert total == pytest.approx(lr * (math.log(steps) + 0.5772), rel=1e-3)
    # The second half of training still adds lr·ln 2 under 1/(t+1); under StepLR it adds nothing measurable.
    assert rates[steps // 2:].sum() < 1e-100
    assert total - sum(0.1 / (t + 1) for t in range(steps // 2)) == pytest.approx(lr * math.log(2), rel=1e-3)


# --------------------------------------------------------------------------- S4
def _gelu_second_derivative(x: torch.Tensor, approximate: str) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (first,) = torch.autograd.grad(torch.nn.functional.gelu(x, approximate=approximate).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x)
    return second


@pytest.mark.claim("S4")
def test_gelu_is_smooth_and_its_second_derivative_matches_the_closed_form(evidence):
    evidence.condition("torch.nn.functional.gelu (exact erf form), float64 autograd double backward")
    x = torch.linspace(-8, 8, 16001, dtype=DTYPE)
    second = _gelu_second_derivative(x, "none")
    density = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    closed_form = density * (2 - x**2)  # d²/dx² xΦ(x) = φ(x)(2 - x²)
    error = float((second - closed_form).abs().max())
    evidence.measure("max |autograd GELU'' - φ(x)(2-x²)| on [-8, 8]", error, paper=None)
    assert error < 1e-12
    # Continuity of GELU'' at 0 from both sides (ReLU'' does not even exist there).
    h = torch.tensor([-1e-6, 1e-6], dtype=DTYPE)
    sides = _gelu_second_derivative(h, "none")
    assert abs(float(sides[0] - sides[1])) < 1e-10
    for approximate in ("none", "tanh"):
        values = _gelu_second_derivative(x, approximate)
        assert torch.isfinite(values).all()


@pytest.mark.claim("S4")
def test_gelu_approaches_relu_away_from_zero(evidence):
    evidence.condition("float64; |GELU(x) - ReLU(x)| = |x|Φ(-|x|) for the exact GELU")
    x = torch.linspace(-40, 40, 80001, dtype=DTYPE)
    gap = (torch.nn.functional.gelu(x) - torch.relu(x)).abs()
    worst = {}
    for threshold in (1.0, 3.0, 5.0, 10.0):
        worst[threshold] = float(gap[x.abs() >= threshold].max())
        evidence.measure(f"sup |GELU-ReLU| over |x| >= {threshold:g}", worst[threshold], paper=None)
    overall = float(gap.max())
    evidence.measure("sup |GELU-ReLU| over all x", overall, paper=None, condition="attained near x = -0.75")
    assert worst[1.0] > worst[3.0] > worst[5.0] > worst[10.0]
    assert worst[5.0] < 2e-6 and worst[10.0] < 1e-20
    # ... but they are not uniformly close: near 0 the two differ by about 0.17.
    assert 0.16 < overall < 0.18


@pytest.mark.claim("S4")
def test_relu_has_different_one_sided_derivatives_at_zero(evidence):
    evidence.condition("float64 one-sided difference quotients of torch's ReLU at 0")
    for h in (1e-1, 1e-4, 1e-8, 1e-12):
        right = float(torch.relu(torch.tensor(h, dtype=DTYPE))) / h
        left = float(torch.relu(torch.tensor(-h, dtype=DTYPE))) / -h
        assert right == 1.0 and left == 0.0
    evidence.measure("right derivative of ReLU at 0", 1.0, paper=None)
    evidence.measure("left derivative of ReLU at 0", 0.0, paper=None)
