"""Convergence claims C1-C4 and C7 (v1 §2, v2 §3): non-capture, non-descent, ReLU's kink, rates.

Optimiser runs go through ``torch.optim.SGD`` on autograd of the paper's losses
(``gdcut.losses``), in float64 and float32; exact arithmetic (fractions) where a
closed form exists; the classical bounds come from ``gdcut.convex``.
"""
from __future__ import annotations

from fractions import Fraction

import functools

import numpy as np
import pytest
import torch
from hypothesis import assume, event, given, note, target
from hypothesis import strategies as st

from gdcut import analytic_rules, convex, figures, geometry, problems, rules, runs
from gdcut.ledger.registry import claim
from gdcut.losses import huber_loss, l1_penalty, relu_regression_loss

pytestmark = pytest.mark.fast

C1_RATES = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
C1_SEEDS = (0, 1, 2)
C1_STEPS = 1000
LASSO_WEIGHT, RIDGE = float(claim("C1").paper_value("λ1")), claim("C1").paper_value("λ2")  # of the Fig. 1 loss, eq. 3
#: Prop 3.1 (v2) / 2.1 (v1): a start within this distance of x* is captured.


@functools.lru_cache(maxsize=None)
def _non_capture_batch(dtype: torch.dtype):
    """NDGM on L2 through torch.optim.SGD for every seed of C1_SEEDS and rate of C1_RATES, as one run (cached per worker).

    Each (seed, rate) is a trial whose loss uses its seed's instance (``runs.side_by_side``).
    """
    instances = [problems.non_capture_instance(seed, dtype=dtype) for seed in C1_SEEDS]
    rates = len(C1_RATES)
    loss = runs.side_by_side([(functools.partial(relu_regression_loss, Z=Z1, y=q1, lambda1=LASSO_WEIGHT, lambda2=RIDGE),
                               rates) for Z1, q1, _ in instances])
    starts = torch.cat([beta0.expand(rates, -1) for _, _, beta0 in instances])
    run = runs.run_optimiser(loss, starts, "sgd", C1_RATES * len(C1_SEEDS), C1_STEPS,
                             measures={"sup": lambda b: b.abs().amax(-1), "euclid": lambda b: b.norm(dim=-1)})
    return [float(beta0.norm()) for _, _, beta0 in instances], run


def _non_capture_runs(seed: int, dtype: torch.dtype):
    """Seed ``seed``'s share of :func:`_non_capture_batch`: ‖β0‖₂, then the losses, ‖β_k‖∞ and ‖β_k‖₂ at every
    iterate, each of shape (C1_STEPS + 1, len(C1_RATES)), one column per rate."""
    starts, run = _non_capture_batch(dtype)
    i = C1_SEEDS.index(seed)
    columns = slice(i * len(C1_RATES), (i + 1) * len(C1_RATES))
    return (starts[i], run.losses[:, columns].numpy(), run.measures["sup"][:, columns].numpy(),
            run.measures["euclid"][:, columns].numpy())


# --------------------------------------------------------------------------- C1
@pytest.mark.claim("C1", decides=True)
@pytest.mark.xdist_group("c1-non-capture-runs")
def test_fig1_loss_decreases_while_infinity_norm_exceeds_one(evidence):
    """Decides Fig. 1 per dtype and learning rate (α is unstated, so the sweep's cells are the conditions).

    Per run (seed): both halves hold when the loss never rises by more than rounding
    (L_{k+1} − L_k ≤ 64·eps(dtype)·L_k for all k < T) and max_k ‖β_k‖∞ > 1 > ‖β0‖∞; it
    fails when the loss rises (or the run blows up); it is void when the loss is
    monotone but ‖β_k‖∞ ≤ 1 up to T = 1000 ('eventually' may come later) or ‖β0‖∞ ≥ 1.
    Per cell (float64 or float32, α ∈ {1e-5 … 0.1}), n = 3 seeds: supports when all of
    ≥ 3 usable seeds show both halves, refutes when none does, inconclusive when
    the seeds disagree or fewer than 3 are usable. A loss increase at α ≤ 0.01, or
    a monotone loss at α = 0.1 with ‖β_k‖∞ > 1, would flip those cells.
    """
    evidence.parameter("instance", "Z1 20×500 ~ U[−1,1], q1 ~ U[−1,0], β0 ~ U[−1,1]^500", note="paper's")
    evidence.parameter("seeds", list(C1_SEEDS), note="not stated; swept")
    evidence.parameter("learning rates", list(C1_RATES), note="not stated; swept over decades")
    evidence.parameter("iterations", C1_STEPS, note="not stated")
    evidence.condition("torch.optim.SGD on autograd of relu_regression_loss (torch.relu, derivative 0 at 0)")
    rows, outcomes = [], {}
    for dtype in (torch.float64, torch.float32):
        eps = float(torch.finfo(dtype).eps)
        for seed in C1_SEEDS:
            _, losses, sup_norm, _ = _non_capture_runs(seed, dtype)
            for j, rate in enumerate(C1_RATES):
                outcome = analytic_rules.c1_seed_outcome(losses[:, j], sup_norm[:, j], eps)
                outcomes.setdefault((dtype, rate), []).append(outcome)
                increase = float(np.diff(losses[:, j]).max())
                escapes = bool(sup_norm[:, j].max() > 1)
                first = int(np.argmax(sup_norm[:, j] > 1)) if escapes else None
                rows.append([str(dtype).replace("torch.", ""), seed, rate, outcome is not False, f"{increase:.2e}",
                             f"{sup_norm[:, j].max():.3f}", first])
            if seed == 0 and dtype == torch.float64:
                evidence.figure(figures.figure_1(losses[:, 1:4], sup_norm[:, 1:4], C1_RATES[1:4]),
                                caption="Fig. 1 regenerated (seed 0, float64): loss and ‖β_k‖∞ against k")
    evidence.table("Both halves of Fig. 1 per dtype, seed and α (max step increase ≤ rounding means monotone)",
                   header=["dtype", "seed", "α", "loss monotone", "max increase", "max ‖β_k‖∞", "first k with ‖β_k‖∞>1"],
                   rows=rows)
    evidence.swept("learning rate α", [f"{rate:g}" for rate in C1_RATES])
    evidence.swept("seed", [str(seed) for seed in C1_SEEDS])
    evidence.swept("dtype", ["float64", "float32"])
    evidence.independent_of("horizon", "a loss increase seen within the horizon stays seen at any longer one, and a "
                            "monotone run still inside the unit ball is void ('eventually')")
    rulings = {key: analytic_rules.c1_rule(cell, C1_STEPS) for key, cell in outcomes.items()}
    for dtype in (torch.float64, torch.float32):
        name = str(dtype).replace("torch.", "")
        evidence.decision(f"the paper's setting in {name}, at some learning rate of 1e-5 … 0.1: Fig. 1 reproduces",
                          analytic_rules.c1_some_rate_rule({rate: r for (d, rate), r in rulings.items() if d == dtype}))
    evidence.table("Fig. 1 per learning rate (each cell: all 3 seeds show both halves, or none does)",
                   header=["dtype", "α", "decision"],
                   rows=[[str(d).replace("torch.", ""), rate, r.decision] for (d, rate), r in rulings.items()])
    rates_holding = sorted({rate for (_, rate), cell in outcomes.items()
                            if all(rulings[(d, rate)].decision == "supports" for d, r in outcomes if r == rate)})
    evidence.measure("α values where both halves hold for every seed and dtype", str(rates_holding),
                     paper="learning rate")
    evidence.note("Where the loss is monotone, ‖β_k‖∞ exceeds 1 within the first few steps, not 'eventually'; "
                  "α = 0.1 shows large loss increases.")


@pytest.mark.claim("C1", refutes=True)
@pytest.mark.xdist_group("c1-non-capture-runs")
def test_capture_premise_is_euclidean_and_ndgm_is_captured_in_that_norm(evidence):
    """Prop 3.1 bounds ‖x_k − x*‖ in the Euclidean norm (Bertsekas 1997, Prop 1.2.5); β0 is far outside that unit ball."""
    evidence.condition("the contradiction with the capture theorem, read in the theorem's own, Euclidean norm: on "
                       "Fig. 1's runs ‖β0‖₂ ≈ 12.9 starts outside its radius 1 (float64)")
    evidence.paper_setting("v2 Fig. 1 and Prop 3.1 (v1 Fig. 1, Prop 2.1)")
    evidence.independent_of("learning rate α", "the premise ‖β0 − x*‖₂ < 1 fails at the start, before any step")
    evidence.independent_of("horizon", "the premise ‖β0 − x*‖₂ < 1 fails at the start, before any step")
    evidence.independent_of("dtype", "‖β0‖₂ ≈ 12.9 is far from 1 in any precision")
    evidence.swept("seed", [str(seed) for seed in C1_SEEDS])
    Z1, q1, beta0 = problems.non_capture_instance(C1_SEEDS[0])
    evidence.premise("Fig. 1's own setting: NDGM on L2 with Z1 ~ U[−1,1], q1 ~ U[−1,0], β0 ~ U[−1,1]^500",
                     Z1.shape == (claim("C1").paper_value("Z1 rows"), claim("C1").paper_value("Z1 columns (P)"))
                     and q1.shape == (claim("C1").paper_value("q1 length"),) and beta0.shape == Z1.shape[1:])
    rows = []
    for seed in C1_SEEDS:
        start, _, _, distance = _non_capture_runs(seed, torch.float64)
        assert start > analytic_rules.C1_RADIUS, "‖β0‖₂ < 1 would meet the premise"
        rows.append([seed, f"{start:.2f}"] + [f"{distance[:, j].max() / start:.4f}" for j in range(len(C1_RATES))])
        # In the theorem's own norm, NDGM with the monotone rates never moves farther from x* = 0.
        for j, rate in enumerate(C1_RATES[:4]):
            if rate <= 1e-3:
                assert distance[:, j].max() <= start + 1e-12
    evidence.measure("‖β0‖₂ for β0 ~ U[−1,1]^500", float(np.mean([float(r[1]) for r in rows])),
                     paper="distance of the start from x* within which the capture theorem applies",
                     condition=f"mean over seeds; prediction √(500/3) = {np.sqrt(500 / 3):.2f}")
    evidence.table("Euclidean distance to x* = 0: max_k ‖β_k‖₂ / ‖β0‖₂ per α",
                   header=["seed", "‖β0‖₂"] + [f"α={r:g}" for r in C1_RATES], rows=rows)
    evidence.note("The premise ‖x0 − x*‖ < 1 of Prop 3.1 fails (‖β0‖₂ ≈ 12.9), so nothing is contradicted; in "
                  "the Euclidean norm NDGM is captured (never farther than at the start) for α ≤ 1e-3.")


@pytest.mark.claim("C1", refutes=True)
def test_smooth_gd_also_leaves_the_infinity_ball(evidence):
    """GD on a C^∞ strongly convex loss with unique minimiser 0 reproduces Fig. 1: non-capture is not an NDGM effect."""
    evidence.condition("plain GD (torch.optim.SGD, α = 1/L) on a smooth convex loss with Fig. 1's Z1 and β0, "
                       "f(β) = ‖Z1 β‖² + 0.01‖β‖², unique isolated minimum 0")
    evidence.swept("seed", [str(seed) for seed in C1_SEEDS])
    evidence.swept("dtype", ["float64", "float32"])
    evidence.independent_of("learning rate α", "the comparison runs plain GD at its own step 1/L, where its loss is "
                            "monotone; NDGM's α does not enter")
    evidence.independent_of("horizon", "‖β_k‖∞ > 1 is seen within 300 steps and stays seen")
    rows, monotone, shapes = [], [], []
    for dtype in (torch.float64, torch.float32):
        for seed in C1_SEEDS if dtype == torch.float64 else C1_SEEDS[:1]:
            Z1, _, beta0 = problems.non_capture_instance(seed, dtype=dtype)
            smoothness = 2 * convex.quadratic_top_eigenvalue((Z1.T @ Z1).double().numpy()) + 2 * RIDGE
            rate = 1 / smoothness
            run = runs.run_optimiser(
                lambda b: ((b @ Z1.T) ** 2).sum(-1) + RIDGE * (b**2).sum(-1), beta0[None], "sgd", rate, 300,
                measures={"sup": lambda b: b.abs().amax(-1), "euclid": lambda b: b.norm(dim=-1)})
            losses, sup_norm, euclid = (run.losses[:, 0].numpy(), run.measures["sup"][:, 0].numpy(),
                                        run.measures["euclid"][:, 0].numpy())
            rows.append([str(dtype).replace("torch.", ""), seed, f"{rate:.2e}", bool(np.all(np.diff(losses) <= 0)),
                         f"{sup_norm.max():.3f}", f"{euclid.max() / euclid[0]:.4f}"])
            monotone.append(bool(np.all(np.diff(losses) <= 0)))
            shapes.append(tuple(Z1.shape) == (claim("C1").paper_value("Z1 rows"), claim("C1").paper_value("Z1 columns (P)")))
            assert np.all(np.diff(losses) <= 0)
            assert sup_norm.max() > analytic_rules.C1_RADIUS > sup_norm[0]
            assert euclid.max() <= euclid[0] * (1 + 1e-6)
    evidence.premise("Fig. 1's instance (Z1 20×500, β0 ~ U[−1,1]) and a monotone descent run, as C1 reads "
                     "non-capture from", all(shapes) and all(monotone))
    evidence.table("Smooth GD with α = 1/L: monotone loss, yet ‖β_k‖∞ > 1 (while ‖β_k‖₂ never grows)",
                   header=["dtype", "seed", "α = 1/L", "loss monotone", "max ‖β_k‖∞", "max ‖β_k‖₂/‖β0‖₂"], rows=rows)
    evidence.note("Removing the row-space component of β0 pushes some of its 500 entries past ±1; this happens "
                  "for plain GD too, so Fig. 1 cannot tell NDGM from GD.")


@pytest.mark.claim("C1", refutes=True)
def test_prop31_as_stated_fails_for_smooth_gd(evidence):
    """Prop 3.1 claims the whole unit ball is captured; Bertsekas' Prop 1.2.5 only gives some open set S inside it.

    f(x) = x² for x ≥ 0 and x²/10 for x < 0 is convex and C¹ with the isolated minimum 0.
    GD with α = 6/5 from x0 = 9/10: f decreases every step, |x0| < 1, but |x1| = 63/50 > 1.
    """
    F = Fraction

    def f(x):
        return x * x if x >= 0 else x * x / 10

    def grad(x):
        return 2 * x if x >= 0 else x / 5

    alpha, x = F(6, 5), F(9, 10)
    xs = [x]
    for _ in range(30):
        x = x - alpha * grad(x)
        xs.append(x)
    values = [f(v) for v in xs]
    # Prop 3.1's premises, exactly: convex C¹ f (slopes 1/5 and 2 meet at 0 with value 0), isolated minimum 0,
    # |x0 − x*| < 1, and every step decreases f.
    evidence.premise("f convex and C¹ with isolated minimum 0 (f'(0−) = f'(0+) = 0, f' non-decreasing)",
                     grad(F(0)) == 0 and all(grad(a) <= grad(b) for a, b in zip(sorted(xs), sorted(xs)[1:])))
    evidence.premise("|x0 − x*| < 1 and the loss decreases at every step",
                     abs(xs[0]) < analytic_rules.C1_RADIUS and all(b < a for a, b in zip(values, values[1:])))
    evidence.origin("constructed", "a two-slope quadratic with α = 6/5 from x0 = 9/10")
    evidence.condition("Prop 3.1 as the paper states it, on a convex C¹ function: GD from inside the unit ball with "
                       "a loss that falls at every step, in exact rationals")
    for parameter in ("learning rate α", "seed", "horizon"):
        evidence.independent_of(parameter, "a counterexample to the proposition itself, not a run of Fig. 1: one "
                                "instance refutes it, and |x1| > 1 is reached at the first step")
    evidence.swept("dtype", ["float64", "float32"])
    assert all(b < a for a, b in zip(values, values[1:]))
    assert abs(xs[0]) < analytic_rules.C1_RADIUS and abs(xs[1]) == F(63, 50)
    # The same through torch.optim.SGD on autograd, float64 and float32.
    for dtype in (torch.float64, torch.float32):
        run = runs.run_optimiser(lambda w: torch.where(w >= 0, w**2, w**2 / 10)[:, 0],
                                 torch.tensor([[0.9]], dtype=dtype), "sgd", 1.2, 30, measures={"x": lambda w: w[:, 0]})
        torch_xs = run.measures["x"][1:, 0].tolist()
        assert torch_xs[0] == pytest.approx(-1.26, rel=1e-6)
        assert np.allclose(torch_xs, [float(v) for v in xs[1:]], rtol=1e-5, atol=1e-7)
    evidence.measure("|x1| for GD on a C¹ convex f with monotone loss, |x0| = 0.9", float(abs(xs[1])),
                     paper="|x_k| after a monotone start inside the capture radius")
    evidence.note("Prop 3.1 (v2) / 2.1 (v1) is not what Bertsekas Prop 1.2.5 states: there, the captured set S is "
                  "some open set within the ε-ball, not the ball itself; with monotone descent alone even smooth GD "
                  "can leave the unit ball.")


# --------------------------------------------------------------------------- C2
@pytest.mark.claim("C2")
@pytest.mark.xdist_group("c1-non-capture-runs")
def test_subgradient_step_can_increase_the_loss(evidence):
    # 1. |x| from 0.3 with α = 1: 0.3 -> -0.7.
    w = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1.0)
    before = float(w.detach().abs().sum())
    opt.zero_grad()
    w.abs().sum().backward()
    opt.step()
    assert float(w.detach().abs().sum()) > before
    # 2. Every positive step increases f(x) = |x1| + 2|x2| at (1, 0) when |x2| is written max(0, x2) + max(0, -x2)
    #    with torch.maximum (derivative 1/2 at 0) for the first term and torch.relu (0 at 0) for the second:
    #    autograd returns g = (1, 1), a valid subgradient (1 ∈ [-2, 2]).
    def kinked(x):
        zero = torch.zeros_like(x[..., 1])
        return x[..., 0].abs() + 2 * (torch.maximum(x[..., 1], zero) + torch.relu(-x[..., 1]))
    rates = [Fraction(1, 10**k) for k in range(1, 8)] + [Fraction(1, 2), Fraction(99, 100)]
    x = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    kinked(x).backward()
    assert x.grad.tolist() == [1.0, 1.0]
    for rate in rates:  # exact: f(1 - α, -α) = 1 - α + 2α = 1 + α
        after = abs(1 - rate) + 2 * abs(-rate)
        assert after == 1 + rate > 1
        stepped = torch.tensor([1 - float(rate), -float(rate)], dtype=torch.float64)
        assert float(kinked(stepped)) == pytest.approx(float(1 + rate), rel=1e-12)
    # 3. On the paper's L2 instance: share of NDGM steps that raise the loss, per α.
    rows = []
    _, all_losses, _, _ = _non_capture_runs(0, torch.float64)
    for rate_index, rate in enumerate(C1_RATES):
        losses = all_losses[:, rate_index]
        rows.append([rate, f"{np.mean(np.diff(losses) > 0):.4f}", f"{np.diff(losses).max():.2e}"])
    assert float(rows[-1][1]) > 0
    evidence.table("NDGM on the Fig. 1 instance of eq. 3 (seed 0): share of steps where the loss rises",
                   header=["α", "share of increasing steps", "largest increase"], rows=rows)
    evidence.measure("f(x1) − f(x0) on |x1| + 2|x2| from (1, 0)", "α for every α ∈ (0, 1)", paper="objective change in one subgradient step")
    evidence.note("For the paper's own Fig. 1 the loss is monotone at α ∈ [1e-4, 1e-2]: non-descent does not "
                  "explain that figure (see C1).")


# --------------------------------------------------------------------------- C3
@pytest.mark.claim("C3")
def test_relu_gradient_difference_quotient_is_unbounded(evidence):
    rows = []
    for k in range(1, 13):
        h = 10.0**-k
        x = torch.tensor([h, -h], dtype=torch.float64, requires_grad=True)
        torch.relu(x).sum().backward()
        quotient = float((x.grad[0] - x.grad[1]) / (2 * h))
        assert quotient == pytest.approx(1 / (2 * h), rel=1e-12)  # analytic: (1 − 0)/(2h)
        g = torch.tensor([h, -h], dtype=torch.float64, requires_grad=True)
        torch.nn.functional.gelu(g).sum().backward()
        gelu_quotient = float((g.grad[0] - g.grad[1]) / (2 * h))
        rows.append([f"{h:.0e}", f"{quotient:.3e}", f"{gelu_quotient:.6f}"])
    assert float(rows[-1][1]) > 1e11
    # GELU's quotient tends to gelu''(0) = 2φ(0) = √(2/π): bounded, as L-smoothness requires.
    assert float(rows[-1][2]) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-3)
    evidence.table("(∇q(h) − ∇q(−h))/(2h) from autograd, ReLU vs GELU", header=["h", "ReLU", "GELU"], rows=rows)
    evidence.measure("ReLU quotient at h = 1e-12", float(rows[-1][1]), paper="limit of (∇q(h) − ∇q(−h))/(2h), h → 0+",
                     condition="predicted 1/(2h) = 5e11")


# --------------------------------------------------------------------------- C7
@pytest.mark.claim("C7")
def test_toy_optimum_is_a_kink(evidence):
    evidence.condition("eq. 3 on the C1 instance (4 seeds), λ1 ∈ {0, 0.1}, λ2 = 0.01; one-sided difference quotients"
                       " against the closed form −2Σq_i max(0, z_iᵀd) + λ1‖d‖₁")
    rows = []
    for seed in range(4):
        for lambda1 in (0.0, 0.1):
            Z1, q1, _ = problems.non_capture_instance(seed)
            loss = lambda b: float(relu_regression_loss(torch.as_tensor(b), Z1, q1, lambda1, RIDGE))
            generator = np.random.default_rng(seed)
            for _ in range(5):
                d = generator.normal(size=Z1.shape[1])
                plus, minus = geometry.one_sided_derivatives(loss, np.zeros(Z1.shape[1]), d, h=1e-7)
                predicted_plus = geometry.relu_regression_directional_derivative_at_zero(Z1, q1, lambda1, d)
                predicted_minus = geometry.relu_regression_directional_derivative_at_zero(Z1, q1, lambda1, -d)
                assert plus == pytest.approx(predicted_plus, rel=1e-4)
                assert minus == pytest.approx(predicted_minus, rel=1e-4)
                assert plus > 0 and minus > 0  # differentiable would need f'(0; d) = −f'(0; −d)
            rows.append([seed, lambda1, f"{plus:.3f}", f"{minus:.3f}"])
    evidence.table("One-sided derivatives of eq. 3 at β = 0 along a random d (λ2 = 0.01): both positive",
                   header=["seed", "λ1", "f'(0; d)", "f'(0; −d)"], rows=rows)
    evidence.note("Closed form f'(0; d) = −2 Σ q_i max(0, z_iᵀd) + λ1‖d‖₁ matches the finite differences; since "
                  "q ≤ 0 both one-sided derivatives are ≥ 0, so the minimiser β = 0 is a kink for every draw with q ≠ 0 "
                  "(even for λ1 = 0, where the kink comes from the ReLU alone). That minima of deep ReLU nets are "
                  "generically kinks is cited (Laurent & Brecht 2018) and not tested here.")


# --------------------------------------------------------------------------- C4
@st.composite
def lipschitz_problems(draw):
    """A convex loss from the paper (toy LASSO L3, eq. 3 with y ≤ 0, Huber eq. 10) with its f*, a minimiser and x0."""
    kind = draw(st.sampled_from(["toy_lasso", "relu_regression", "huber"]))
    seed = draw(st.integers(0, 10_000))
    generator = problems.seeded_generator(seed)
    if kind == "toy_lasso":
        size = draw(st.integers(1, 20))
        lambda1 = draw(st.floats(0.01, 10))
        x0 = problems.uniform((1, size), -1, 1, generator)
        return kind, (lambda b: l1_penalty(b, lambda1)), x0, torch.zeros(size, dtype=torch.float64), 0.0
    if kind == "relu_regression":
        rows, columns = draw(st.integers(2, 10)), draw(st.integers(2, 30))
        lambda1, lambda2 = draw(st.floats(0.0, 1.0)), draw(st.floats(0.01, 1.0))
        Z, q, _ = problems.non_capture_instance(seed, rows, columns)
        x0 = problems.uniform((1, columns), -1, 1, generator)
        return (kind, (lambda b: relu_regression_loss(b, Z, q, lambda1, lambda2)), x0,
                torch.zeros(columns, dtype=torch.float64), float((q**2).sum()))
    rows = draw(st.integers(2, 10))
    columns = draw(st.integers(rows + 1, 30))
    Z, y = problems.huber_instance(seed, rows, columns, data=draw(st.sampled_from(problems.HUBER_DATA)))
    x0 = problems.uniform((1, columns), -3, 3, generator)
    nearest = x0[0] - torch.linalg.pinv(Z) @ (Z @ x0[0] - y)  # the closest zero-loss minimiser
    return kind, (lambda b: huber_loss(b, Z, y)), x0, nearest, 0.0


@pytest.mark.claim("C4")
@given(problem=lipschitz_problems(), alpha=st.floats(1e-4, 1.0), diminishing=st.booleans())
def test_subgradient_best_iterate_bound_holds(problem, alpha, diminishing, evidence):
    evidence.condition("the classical upper bound: subgradient method on the paper's Lipschitz convex losses, best "
                       "iterate within (R² + G²Σα²)/(2Σα), any start and step")
    for parameter in ("start β0", "size P"):
        evidence.independent_of(parameter, "a theorem for every start and size; hypothesis draws both")
    kind, loss, x0, minimiser, optimum = problem
    event(kind)
    steps = 300
    decay = (lambda k: 1 / np.sqrt(k + 1)) if diminishing else (lambda k: 1.0)
    step_sizes = np.array([alpha * decay(k) for k in range(steps)])  # what torch's LambdaLR computes
    run = runs.run_optimiser(loss, x0, "sgd", alpha, steps, gradient_norms=True,
                             scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, decay))
    gradient_norms = run.gradient_norms[:-1]
    # Eq. 3's squared loss is not globally Lipschitz: with a large α the iterates can overflow, and then
    # G = ∞ makes the bound vacuous (true but uncheckable in floats).
    finite = bool(torch.isfinite(gradient_norms).all() and torch.isfinite(run.losses).all())
    event("diverged: bound vacuous" if not finite else "finite run")
    assume(finite)
    best = np.minimum.accumulate(run.losses[:-1, 0].numpy()) - optimum
    bound = convex.best_iterate_bound(float((x0[0] - minimiser).norm()), gradient_norms[:, 0].numpy(), step_sizes)
    target(float(np.max(best / bound)), label="best gap / bound")
    note(f"{kind}: worst ratio {np.max(best / bound):.3f}")
    assert np.all(best <= bound * (1 + 1e-9) + 1e-12)


@st.composite
def smooth_problems(draw):
    """An L-smooth convex loss with its L, f* and nearest minimiser: least squares (N > P) or over-parameterised Huber."""
    seed = draw(st.integers(0, 10_000))
    generator = problems.seeded_generator(seed)
    if draw(st.booleans()):
        columns = draw(st.integers(1, 10))
        rows = draw(st.integers(columns + 1, 30))
        W = problems.uniform((rows, columns), -1, 1, generator)
        y = problems.uniform((rows,), -1, 1, generator)
        solution = torch.linalg.lstsq(W, y[:, None]).solution[:, 0]
        smoothness = 2 * convex.quadratic_top_eigenvalue((W.T @ W).numpy()) / rows
        x0 = problems.uniform((1, columns), -3, 3, generator)
        optimum = float(((y - W @ solution) ** 2).mean())
        return "least_squares", (lambda b: ((y - b @ W.T) ** 2).mean(-1)), x0, solution, optimum, smoothness
    rows = draw(st.integers(2, 10))
    Z, y = problems.huber_instance(seed, rows, draw(st.integers(rows + 1, 30)))
    x0 = problems.uniform((1, Z.shape[1]), -3, 3, generator)
    nearest = x0[0] - torch.linalg.pinv(Z) @ (Z @ x0[0] - y)
    return "huber", (lambda b: huber_loss(b, Z, y)), x0, nearest, 0.0, convex.huber_smoothness(Z.numpy())


@pytest.mark.claim("C4")
@given(problem=smooth_problems())
def test_gd_smooth_rate_holds(problem, evidence):
    evidence.condition("the classical upper bound: GD with step 1/L on L-smooth convex losses, f(x_k) − f* ≤ LR²/(2k)")
    for parameter in ("start β0", "size P"):
        evidence.independent_of(parameter, "a theorem for every start and size; hypothesis draws both")
    kind, loss, x0, minimiser, optimum, smoothness = problem
    event(kind)
    steps = 200
    run = runs.run_optimiser(loss, x0, "sgd", 1 / smoothness, steps)
    gaps = run.losses[1:, 0].numpy() - optimum
    bound = convex.gd_smooth_bound(smoothness, float((x0[0] - minimiser).norm()), steps)
    target(float(np.max(gaps / bound)), label="gap / (L R² / 2k)")
    assert np.all(gaps <= bound * (1 + 1e-9) + 1e-12)


ACCURACIES = np.geomspace(1e-1, 3e-3, 4)


C4_SEEDS = (0, 1, 2, 3)


def _iterations_to_accuracy(lambda1: float, size: int, seeds, scale: float = 1.0) -> dict[int, tuple[list[int], list[int]]]:
    """Iterations to f − f* ≤ ε on the matched pair, per seed and ε of ACCURACIES (every (seed, ε) a trial of one SGD).

    Non-smooth: λ1‖β‖₁ with the subgradient method and Boyd's ε-optimal constant step α = ε/G², G = λ1√P.
    Smooth: its Huber smoothing λ1 Σ huber_δ(β_i)/δ with δ = ε/(λ1 P) (within ε of λ1‖β‖₁), GD with α = 1/L = δ/λ1.
    """
    starts = scale * torch.cat([problems.toy_lasso_initialisations(1, size, seed=seed) for seed in seeds])
    beta0 = starts.repeat_interleave(len(ACCURACIES), dim=0)  # rows: seed-major, then ε
    accuracies = np.tile(ACCURACIES, len(seeds))
    rates = accuracies / (lambda1**2 * size)
    deltas = torch.as_tensor(accuracies / (lambda1 * size))[:, None]
    # Each entry moves αλ1 = ε/(λ1 P) towards 0 per step, outside the band where f − f* < ε: every trial reaches its
    # ε within ‖β0‖∞ λ1 P / ε steps (the smoothing takes the same steps, see below); a short run fails the assert.
    steps = int(float(starts.abs().max()) * lambda1 * size / ACCURACIES[-1]) + 10
    smooth = lambda b: lambda1 * torch.where(b.abs() < deltas, b**2 / (2 * deltas), b.abs() - deltas / 2).sum(-1)
    # one run takes both problems side by side (α = ε/G² and α = δ/λ1 are equal per ε; where they agree to the
    # last bit the two problems share a parameter group)
    both = runs.run_optimiser(runs.side_by_side([(lambda b: l1_penalty(b, lambda1), len(beta0)), (smooth, len(beta0))]),
                              torch.cat([beta0, beta0]), "sgd", np.concatenate([rates, (deltas[:, 0] / lambda1).numpy()]),
                              steps).losses
    sub_losses, smooth_losses = both[:, :len(beta0)], both[:, len(beta0):]
    counts = []
    for losses in (sub_losses.numpy(), smooth_losses.numpy()):
        found = [convex.iterations_to_accuracy(np.minimum.accumulate(losses[:, j]), eps)
                 for j, eps in enumerate(accuracies)]
        assert None not in found
        counts.append(np.reshape([max(k, 1) for k in found], (len(seeds), len(ACCURACIES))).tolist())
    return {seed: (counts[0][i], counts[1][i]) for i, seed in enumerate(seeds)}


C4_SIZES = (10, 20)
#: The rates predict exponents 2 (subgradient) and 1 (smooth GD) of k ~ ε^−p: 'faster' reads as a gap of at least half.
C4_RATE_GAP = 0.5
C4_STARTS = {"small": 0.1, "U[−1,1]": 1.0}


@pytest.mark.claim("C4", decides=True)
def test_smooth_gd_converges_faster_than_the_subgradient_method_on_matched_problems(evidence):
    """Decides the conclusion 'so smooth networks should converge faster', which the upper bounds do not imply.

    The matched pair, per ε: λ1‖β‖₁ (convex, Lipschitz with G = λ1√P) under the subgradient method with Boyd's
    ε-optimal step α = ε/G², against its Huber smoothing with δ = ε/(λ1 P) (convex, L-smooth with L = λ1/δ, within
    ε/2 of λ1‖β‖₁) under GD with α = 1/L: the smooth problem a smooth network would stand for. Per (P, start) cell,
    seeds 0-3: a seed shows 'faster' in the sense the rates give (k ~ ε^−2 against ε^−1) when the subgradient
    method's measured exponent p (iterations to f − f* ≤ ε ~ ε^−p over the ε grid) exceeds smooth GD's by at least
    0.5; supports when every seed does, refutes when none does.
    Prediction (closed form): outside |β| < δ GD's step on the smoothing is δ·sign(β) = αλ1·sign(β), the
    subgradient step, so the two need the same iterations, about ‖β0‖∞ λ1 P/ε, order 1/ε for both.
    """
    evidence.note('Open point (review, 2026-12-02): the two bound tests check the textbook rates that the paper cites. '
                  "They can fail only through an error in the implementation, not through the paper. So C4's support is "
                  'the rates as implemented, and the conclusion drawn from them is decided here.')
    evidence.condition("the paper's comparison made on a matched pair: λ1‖β‖₁ under the subgradient method (step "
                       "ε/G²) against its Huber smoothing within ε under GD (step 1/L), torch.optim.SGD, float64")
    evidence.swept("size P", [str(size) for size in C4_SIZES])
    evidence.swept("start β0", list(C4_STARTS))
    lambda1 = 1.0
    rows, within, exponents = [], [], []
    for size in C4_SIZES:
        for label, scale in C4_STARTS.items():
            faster = []
            for seed, (sub_counts, smooth_counts) in _iterations_to_accuracy(lambda1, size, C4_SEEDS, scale).items():
                sub_exponent = convex.power_law_exponent(1 / ACCURACIES, sub_counts)
                smooth_exponent = convex.power_law_exponent(1 / ACCURACIES, smooth_counts)
                faster.append(bool(sub_exponent - smooth_exponent >= C4_RATE_GAP))
                # the closed form above: neither needs more than ‖β0‖∞ λ1 P/ε (+1) iterations
                assert all(max(k, m) <= scale * lambda1 * size / eps + 1
                           for eps, k, m in zip(ACCURACIES, sub_counts, smooth_counts))
                exponents.append((convex.power_law_exponent(1 / ACCURACIES, sub_counts),
                                  convex.power_law_exponent(1 / ACCURACIES, smooth_counts)))
                rows += [[size, label, seed, f"{a:.1e}", k, m] for a, k, m in zip(ACCURACIES, sub_counts, smooth_counts)]
            # the smoothing's gap to λ1‖β‖₁ is at most λ1 P δ / 2 = ε/2 (δ = ε/(λ1 P)): within ε, as matching needs
            within.append(all(lambda1 * size * (eps / (lambda1 * size)) / 2 <= eps for eps in ACCURACIES))
            evidence.decision(f"P = {size}, {'a small β0 (0.1·U[−1,1])' if label == 'small' else 'β0 ~ U[−1,1]'}: "
                              "smooth GD converges at a faster rate than the subgradient method",
                              rules.unanimity_rule(faster, "C4: smooth networks should converge faster",
                                                   "seeds whose subgradient exponent exceeds smooth GD's by ≥ 0.5",
                                                   min_n=len(C4_SEEDS)))
    evidence.premise("a matched pair: the smoothing is within ε of λ1‖β‖₁ at every ε, with the same minimiser 0",
                     all(within))
    evidence.table("Iterations to ε", header=["P", "β0", "seed", "ε", "subgradient on λ1‖β‖₁", "GD on the smoothing"],
                   rows=rows)
    worst = max(sub for sub, _ in exponents)
    evidence.measure("largest exponent p, subgradient method (k ~ ε^−p)", worst,
                     paper="exponent p of the subgradient method's steps k ~ ε^−p",
                     condition="a sharp minimum predicts 1; the worst-case bound allows 2")
    evidence.note("The upper bounds hold (supporting tests) but do not order real speeds: on a sharp Lipschitz loss "
                  "the subgradient method needs order 1/ε steps, not 1/ε², and the smooth problem matched within ε "
                  "has L ~ 1/ε, so its O(1/ε) bound LR²/(2ε) is itself of order 1/ε².")
