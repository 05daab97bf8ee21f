"""Geometry of strong duality, G1-G4 (v2 App. A.2): MC/MC values and supporting hyperplanes by linear programming.

Polyhedral functions are exact LPs (``gdcut.geometry``); for the non-polyhedral toy losses the epigraph is
bounded from below by tangent planes built from autograd's subgradients (valid minorants of a convex
function), which turns the max crossing into an LP as well.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from gdcut import geometry, problems
from gdcut.losses import huber_loss, relu_regression_loss

pytestmark = pytest.mark.fast


@st.composite
def polyhedral_functions(draw):
    """f = max_i (a_iᵀx + b_i) in 1-4 dimensions, bounded below (0 inside conv{a_i}, checked by LP).

    Entries lie on a grid of quarters: a slope of 6e-13 next to one of 1e-3 is "bounded below" only up to
    linprog's tolerance, and such instances test the LP solver, not the geometry.
    """
    dimension = draw(st.integers(1, 4))
    count = draw(st.integers(dimension + 1, 8))
    entry = st.integers(-12, 12).map(lambda quarters: quarters / 4)
    A = np.array([[draw(entry) for _ in range(dimension)] for _ in range(count)])
    b = np.array([draw(entry) for _ in range(count)])
    try:
        optimum, minimiser = geometry.max_affine_minimum(A, b)
    except ValueError:  # unbounded below: no minimum to study
        assume(False)
    except RuntimeError:  # HiGHS could not certify this instance (rare, degenerate): not a fact about geometry
        event("instance rejected: linprog status unknown")
        assume(False)
    return A, b, optimum, minimiser


def _tangent_minorant(loss, points: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Rows/offsets of max_j (f(p_j) + g_jᵀ(x − p_j)) with g_j autograd's subgradient at p_j: a minorant of convex f."""
    points = points.clone().requires_grad_(True)
    values = loss(points)
    (grads,) = torch.autograd.grad(values.sum(), points)
    offsets = values.detach() - (grads * points.detach()).sum(-1)
    return grads.numpy(), offsets.numpy()


# --------------------------------------------------------------------------- G1
@pytest.mark.claim("G1")
@given(function=polyhedral_functions())
def test_min_common_equals_max_crossing_for_polyhedral_functions(function, evidence):
    evidence.condition("hypothesis-generated max-affine functions in 1-3 dimensions with a finite minimum;"
                       " w* and q* from the primal and dual linear programs (scipy linprog)")
    A, b, optimum, minimiser = function
    event(f"dimension {A.shape[1]}")
    w_star = geometry.min_common_value(A, b, minimiser)
    # q* = f(c) holds at every point by LP duality (geometry.max_crossing); what the minimum adds (Props A.1-A.2)
    # is that the horizontal hyperplane, slope 0, crosses at w*: q(0) = inf f = f(c).
    horizontal = geometry.crossing_value(A, b, minimiser, np.zeros(A.shape[1]))
    note(f"f* = {optimum}, w* = {w_star}, q(0) = {horizontal}")
    assert w_star == pytest.approx(optimum, abs=1e-7)
    assert horizontal == pytest.approx(w_star, abs=1e-7)
    # Able to fail: away from the minimum the horizontal crossing falls short of w*.
    away = minimiser + 1.0
    if geometry.max_affine(A, b, away) > optimum + 1e-6:
        assert geometry.crossing_value(A, b, away, np.zeros(A.shape[1])) < geometry.min_common_value(A, b, away) - 1e-7


@pytest.mark.claim("G1")
def test_min_common_equals_max_crossing_for_the_toy_losses(evidence):
    evidence.condition("toy LASSO (polyhedral, exact LP); eq. 3 and Huber through tangent planes at autograd subgradients")
    rows = []
    # Toy LASSO in P = 3: λ1‖β‖₁ = max over sign vectors s of λ1 sᵀβ, a polyhedral function.
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3)).reshape(3, -1).T
    A, b = 2.0 * signs, np.zeros(len(signs))
    w_star, q_star = geometry.min_common_value(A, b, np.zeros(3)), geometry.crossing_value(A, b, np.zeros(3), np.zeros(3))
    assert w_star == pytest.approx(0.0, abs=1e-9) and q_star == pytest.approx(0.0, abs=1e-9)
    rows.append(["toy LASSO λ1 = 2, P = 3", f"{w_star:.6f}", f"{q_star:.6f}", 0.0])
    # eq. 3 (20×500 instance of C1, λ1 = 0, λ2 = 0.01) and Huber: tangent-plane minorants through autograd.
    Z1, q1, _ = problems.non_capture_instance(0)
    relu = lambda b_: relu_regression_loss(b_, Z1, q1, 0.0, 0.01)
    Z, y = problems.huber_instance(0)
    minimiser = torch.linalg.pinv(Z) @ y
    cases = [("eq. 3 (C1 instance)", relu, torch.zeros(500, dtype=torch.float64), float((q1**2).sum())),
             ("Huber 50×200", lambda b_: huber_loss(b_, Z, y), minimiser, 0.0)]
    for name, loss, centre, optimum in cases:
        points = torch.cat([centre[None], centre + problems.uniform((300, centre.shape[0]), -2, 2,
                                                                    problems.seeded_generator(1))])
        A, b = _tangent_minorant(loss, points)
        w_star = float(loss(centre))
        # The horizontal crossing of the minorant: its infimum. minorant <= f gives q(0) <= f* = w*; equality says
        # the tangent plane at c (autograd's subgradient there) is horizontal and supports epi f at (c, f(c)).
        q_star = geometry.crossing_value(A, b, centre.numpy(), np.zeros(centre.shape[0]))
        assert q_star == pytest.approx(w_star, abs=1e-9) and w_star == pytest.approx(optimum, abs=1e-9)
        rows.append([name, f"{w_star:.6f}", f"{q_star:.6f}", optimum])
    evidence.table("MC/MC at the global minimum c", header=["loss", "w* (min common)", "q(0) (horizontal crossing, LP)",
                                                          "f(c)"],
                   rows=rows)
    evidence.note("For the non-polyhedral losses q* is bounded below by the LP over tangent planes at 301 points "
                  "(autograd subgradients), and above by w*: the two meet.")


# --------------------------------------------------------------------------- G2
@pytest.mark.claim("G2")
@given(function=polyhedral_functions(), slopes=st.lists(st.floats(-5, 5), min_size=4, max_size=4))
def test_non_vertical_supporting_hyperplanes_exist_and_none_crosses_higher(function, slopes, evidence):
    evidence.condition("hypothesis-generated max-affine functions with a finite minimum; LP dual slope, random"
                       " slopes for weak duality, random normals for vertical hyperplanes")
    A, b, optimum, minimiser = function
    n = A.shape[1]
    # The family at the minimum is ∂f(c) = conv{a_i : i active}: a random convex combination supports epi f,
    # and a slope with an entry beyond every row's (entries lie in [−3, 3]) is outside the hull and does not.
    active = A[geometry.active_pieces(A, b, minimiser, tolerance=1e-7)]
    weights = np.abs(np.array(slopes[: len(active)] + [1.0] * max(0, len(active) - 4))) + 0.1
    inside = weights @ active / weights.sum()
    assert geometry.is_supporting_slope(A, b, minimiser, inside, tolerance=1e-6)
    assert not geometry.is_supporting_slope(A, b, minimiser, inside + 10 * np.eye(n)[0], tolerance=1e-6)
    mu_any = np.array(slopes[:n])
    assert geometry.crossing_value(A, b, minimiser, mu_any) <= optimum + 1e-7  # weak duality: none higher
    normal = np.array(slopes[:n]) if np.linalg.norm(slopes[:n]) > 1e-6 else np.ones(n)
    assert not geometry.vertical_hyperplane_supports(A, b, minimiser, normal)


# --------------------------------------------------------------------------- G3
@pytest.mark.claim("G3")
def test_closed_proper_functions_have_strong_duality(evidence):
    """e^x and x are closed, proper and convex; MC/MC at 0 still gives q* = w* = f(0) (tangent-plane LP)."""
    evidence.condition("closed proper convex functions without a minimum (e^x and x): q* = w* at a point still "
                       "holds, by scipy linprog on tangent-plane minorants")
    rows = []
    for name, loss, w_star in (("exp", lambda x: torch.exp(x[..., 0]), 1.0), ("linear", lambda x: x[..., 0], 0.0)):
        points = torch.linspace(-30, 5, 3501, dtype=torch.float64)[:, None]
        A, b = _tangent_minorant(loss, points)
        q_star, _ = geometry.max_crossing(A, b, np.zeros(1))
        assert q_star == pytest.approx(w_star, abs=1e-9)
        assert geometry.min_common_value(A, b, np.zeros(1)) == pytest.approx(w_star, abs=1e-9)
        rows.append([name, w_star, f"{q_star:.9f}"])
    evidence.table("MC/MC at 0 for closed proper convex functions", header=["f", "w* = f(0)", "q* (LP)"], rows=rows)


@pytest.mark.claim("G3", refutes=True)
def test_closed_proper_functions_need_not_have_a_minimum(evidence):
    """Prop A.4 says closed proper convex functions satisfy 'the conditions above', which start from a finite
    global minimum at c: e^x has none (inf 0 not attained), x is unbounded below."""
    from scipy.optimize import minimize_scalar

    evidence.condition("closed proper convex functions without a finite global minimum: e^x (infimum not "
                       "attained) and x (unbounded below)")
    grid = np.linspace(-5, 5, 101)
    midpoints_below = all(np.exp((a + b) / 2) <= (np.exp(a) + np.exp(b)) / 2 for a in grid for b in grid[::10])
    evidence.premise("Prop A.4's premise: f closed, proper, convex (e^x and x: finite and continuous on ℝ, so closed "
                     "and proper; e^x midpoint-convex on a grid)", midpoints_below)
    rows = []
    for left in (-10.0, -20.0, -40.0):
        # inf e^x = 0 is approached only as x -> −∞: on every box [left, 5] the minimiser sits on the left edge
        result = minimize_scalar(np.exp, bounds=(left, 5.0), method="bounded", options={"xatol": 1e-8})
        assert result.x == pytest.approx(left, abs=1e-4) and result.fun > 0
        rows.append([left, f"{result.x:.5f}", f"{result.fun:.3e}"])
    evidence.table("Minimising e^x on [left, 5] (scipy, bounded)", header=["left", "argmin", "min"], rows=rows)
    points = torch.linspace(-30, 5, 351, dtype=torch.float64)[:, None]
    with pytest.raises(ValueError):  # x: its tangent-plane LP is unbounded below
        geometry.max_affine_minimum(*_tangent_minorant(lambda x: x[..., 0], points))
    evidence.note("So Props A.2-A.3 (supporting hyperplanes through the minimum) do not apply to every closed proper "
                  "convex function; q* = w* itself does hold for them (supporting test).")


# --------------------------------------------------------------------------- G4
@pytest.mark.claim("G4")
def test_supporting_family_at_kinked_and_smooth_minima(evidence):
    Z1, q1, _ = problems.non_capture_instance(0)
    relu = lambda b_: relu_regression_loss(torch.as_tensor(b_), Z1, q1, 0.0, 0.01)
    origin = torch.zeros(500, dtype=torch.float64)
    f0 = float(relu(origin))
    # Members of the family at the kinked minimum β = 0 (eq. 3): 0 (autograd's own answer) and every −2 q_i z_i.
    members = [np.zeros(500)] + [(-2 * q1[i] * Z1[i]).numpy() for i in range(3)]
    samples = torch.cat([scale * problems.uniform((400, 500), -1, 1, problems.seeded_generator(2))
                         for scale in (1e-4, 1e-2, 1.0)])
    values = relu(samples).numpy()
    for g in members:
        assert geometry.in_relu_regression_subdifferential_at_zero(Z1, q1, 0.0, g)
        assert np.all(values >= f0 + samples.numpy() @ g - 1e-9)  # supports the epigraph of the real loss
    # Just outside the family: slope f'(0; e_0) + 1 along e_0 is not in the subdifferential and cuts the epigraph.
    e0 = np.eye(500)[0]
    outside = (geometry.relu_regression_directional_derivative_at_zero(Z1, q1, 0.0, e0) + 1.0) * e0
    assert not geometry.in_relu_regression_subdifferential_at_zero(Z1, q1, 0.0, outside)
    h = 1e-6
    assert float(relu(h * torch.as_tensor(e0))) < f0 + h * outside @ e0
    generator = np.random.default_rng(0)
    widths = []
    for _ in range(20):
        d = generator.normal(size=500)
        plus, minus = geometry.one_sided_derivatives(lambda b_: float(relu(b_)), np.zeros(500), d)
        widths.append(plus + minus)
    # A differentiable minimum: the over-parameterised Huber loss at a zero-loss minimiser.
    Z, y = problems.huber_instance(0)
    minimiser = (torch.linalg.pinv(Z) @ y).numpy()
    huber = lambda b_: float(huber_loss(torch.as_tensor(b_), Z, y))
    smooth_widths = []
    for _ in range(20):
        d = generator.normal(size=200)
        plus, minus = geometry.one_sided_derivatives(huber, minimiser, d, h=1e-6)
        smooth_widths.append(plus + minus)
        # a non-zero slope along d is not supporting: a small step along d lies below the tilted plane
        tilt = 1e-3 * d / np.linalg.norm(d)
        step = 1e-4 * d / np.linalg.norm(d)
        assert huber(minimiser + step) < huber(minimiser) + tilt @ step
    # Abrupt turn: gradients just either side of the kink differ by O(1) as h -> 0, but vanish at the smooth minimum.
    jumps = []
    for h in (1e-3, 1e-6, 1e-9):
        d = torch.as_tensor(members[1] / np.linalg.norm(members[1]))
        sides = []
        for sign in (1, -1):
            point = (sign * h * d).clone().requires_grad_(True)
            relu_regression_loss(point, Z1, q1, 0.0, 0.01).backward()
            sides.append(point.grad)
        jumps.append(float((sides[0] - sides[1]).norm()))
    assert min(widths) > 1e-3 and max(abs(w) for w in smooth_widths) < 1e-4
    assert min(jumps) > 1.0
    evidence.table("Spread of supporting slopes, f'(c; d) + f'(c; −d), over 20 random d",
                   header=["minimum", "smallest", "largest"],
                   rows=[["eq. 3 at β = 0 (kink)", f"{min(widths):.3f}", f"{max(widths):.3f}"],
                         ["Huber at a zero-loss β", f"{min(smooth_widths):.1e}", f"{max(smooth_widths):.1e}"]])
    evidence.measure("‖∇f(hd) − ∇f(−hd)‖ at the kink for h = 1e-3, 1e-6, 1e-9", str([round(j, 3) for j in jumps]),
                     paper="change of the supporting hyperplanes around a non-differentiable minimum")
