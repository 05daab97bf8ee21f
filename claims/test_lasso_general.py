"""The general LASSO L4 = (1/N)‖y − Wβ‖² + λ1‖β‖₁ on the paper's 20×500 instance (v1 §3, v2 App. B.2, §4): L6, L7, L21.

NDGM is the vectorised recursion of ``gdcut.lasso.ndgm`` (checked against
torch.optim.SGD on autograd of ``lasso_loss``); the optimum comes from
scikit-learn's ``Lasso`` (alpha = λ1/2 for the paper's 1/N scaling) and from
proximal gradient (ISTA).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from gdcut import figures, lasso, problems, rules
from gdcut.ledger.registry import claim

SEEDS = (0, 1, 2)
LAMBDAS = (claim("L6").paper_value("small λ1"), claim("L6").paper_value("small λ1 (as written once)"),
           float(claim("L6").paper_value("large λ1")))
#: The two penalties of the paradox, small then large (the paper's λ1 = 0.01 and 10, the '1000-fold' pair).
PARADOX_PAIR = (LAMBDAS[0], LAMBDAS[2])
#: The α the paper does not state: two decades below the smooth part's 2/L ≈ 0.085. The fast tier runs the two
#: largest (short horizons); the slow tier the whole grid, whose small steps need up to 5·10^5 steps.
ALPHAS = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
FAST_ALPHAS = ALPHAS[-2:]
SLOW_ALPHAS = ALPHAS[:-1]
#: The small natural start: β0 = SMALL_START · U[−1,1]^500.
SMALL_START = 1e-3
START_LABELS = ("0", "small", "U[−1,1]")
#: L6's certificates, fixed before the runs: the mean ‖β‖₁ over the last WINDOW steps before T − 20/α (20 units of
#: gradient-flow time) and before T differ by ≤ 2% (stationary), and the small-penalty run's is within 10% of
#: scikit-learn's optimum's ‖β*‖₁.
WINDOW = 1_000
STATIONARITY_TIME = 20
L6_STATIONARY, L6_DISTANCE = 0.02, 0.10
#: Runs whose instance is seeded, paired with the same three starts for every penalty and α.
FAST_SEEDS, SLOW_SEEDS = SEEDS[:2], SEEDS[:2]
#: The slow tier's starts: the natural defaults, whose horizons stay near 60/α even at α = 3e-4.
SLOW_STARTS = 2


def instance(seed: int):
    W, y = problems.general_lasso_instance(seed)
    beta0 = problems.toy_lasso_initialisations(1, W.shape[1], seed=100 + seed)
    return W.numpy(), y.numpy(), beta0.numpy()


def starts(seed: int, count: int = len(START_LABELS)) -> np.ndarray:
    """The three starts of a seed, rows in START_LABELS order: 0, SMALL_START·U[−1,1], U[−1,1] (the paper's draw)."""
    _, _, beta0 = instance(seed)
    small = SMALL_START * problems.toy_lasso_initialisations(1, beta0.shape[1], seed=200 + seed).numpy()
    return np.concatenate([np.zeros_like(beta0), small, beta0])[:count]


@functools.lru_cache(maxsize=None)
def limits(seed: int, alpha: float, count: int = len(START_LABELS)):
    """NDGM on the seed's instance from each start, for every λ1 of LAMBDAS, run to the closed-form horizon.

    Returns (horizon, window means (2, starts, λ1) of ‖β‖₁ before T − 20/α and T, final iterates (starts, λ1, P)),
    for the first ``count`` starts of START_LABELS.
    """
    W, y, _ = instance(seed)
    beta0 = starts(seed, count)
    horizon = lasso.ndgm_horizon(beta0, alpha, min(LAMBDAS))
    rows = np.repeat(beta0, len(LAMBDAS), axis=0)
    means, final = lasso.ndgm_window_norms(W, y, list(LAMBDAS) * len(beta0), alpha, rows, horizon, WINDOW,
                                           max(WINDOW, int(np.ceil(STATIONARITY_TIME / alpha))))
    return horizon, means.reshape(2, len(beta0), len(LAMBDAS)), final.reshape(len(beta0), len(LAMBDAS), -1)


@functools.lru_cache(maxsize=None)
def optimum_norm(seed: int, lambda1: float) -> float:
    W, y, _ = instance(seed)
    return float(np.abs(lasso.sklearn_optimum(W, y, lambda1)).sum())


def decide_paradox(evidence, alphas, seeds, count: int = len(START_LABELS)) -> dict:
    """One decision per α: do the certified limits put λ1 = 10 above λ1 = 0.01 in L1 norm, for every seed and start?

    Returns {α: (small-penalty limits, large-penalty limits)} for the card's table.
    """
    small, large = (LAMBDAS.index(lam) for lam in PARADOX_PAIR)
    evidence.swept("start β0", list(START_LABELS[:count]))
    evidence.swept("step α", [f"{a:g}" for a in alphas])
    evidence.swept("instance (W, y)", [f"seed {s}" for s in seeds])
    evidence.independent_of("horizon", "every run goes to the closed-form horizon 2⌈max|β0|/(αλ1)⌉ + 60/α and is "
                            "certified there: the outcome is the limit, not the horizon")
    measured = {}
    for a in alphas:
        cell = f"α = {a:g} (not stated in the paper)"
        outcomes, drift, distance, pairs = [], 0.0, 0.0, ([], [])
        for seed in seeds:
            horizon, means, _ = limits(seed, a, count)
            drift = max(drift, float((np.abs(means[1] - means[0]) / means[1])[:, [small, large]].max()))
            distance = max(distance, float(np.abs(means[1][:, small] / optimum_norm(seed, PARADOX_PAIR[0]) - 1).max()))
            for row in range(count):
                pairs[0].append(means[1][row, small])
                pairs[1].append(means[1][row, large])
                outcomes.append(bool(means[1][row, large] > means[1][row, small]))
        evidence.certificate("stationarity", drift, L6_STATIONARY, drift <= L6_STATIONARY,
                             f"largest relative change of the mean ‖β‖₁ over {WINDOW} steps between T − {STATIONARITY_TIME}/α and T, "
                             f"T = the closed-form horizon ({horizon} steps for seed {seeds[-1]})", cell=cell)
        evidence.certificate("distance", distance, L6_DISTANCE, distance <= L6_DISTANCE,
                             f"largest relative distance of the λ1 = {PARADOX_PAIR[0]:g} limit's ‖β‖₁ from scikit-learn's "
                             "Lasso optimum", cell=cell)
        evidence.decision(cell, rules.unanimity_rule(
            outcomes, "L6: the larger penalty ends with the larger L1 norm, at one α",
            f"runs (seed × start) whose certified λ1 = {PARADOX_PAIR[1]:g} limit has the larger mean ‖β‖₁",
            min_n=2 * count))
        measured[a] = pairs
    return measured


def crossover_prediction(seeds) -> float:
    """α* = 2‖β*‖₁ / (Pλ1): where the large penalty's band Pαλ1/2 (optimum 0 above λ_max) meets the small one's optimum."""
    W, _, _ = instance(seeds[0])
    return float(np.mean([2 * optimum_norm(s, PARADOX_PAIR[0]) for s in seeds]) / (W.shape[1] * PARADOX_PAIR[1]))


def paradox_table(evidence, measured, seeds, count: int = len(START_LABELS)) -> None:
    rows = []
    for a, (small, large) in sorted(measured.items()):
        W, _, _ = instance(seeds[0])
        rows.append([a, " / ".join(f"{n:.3g}" for n in small), " / ".join(f"{n:.3g}" for n in large),
                     f"{W.shape[1] * a * PARADOX_PAIR[1] / 2:.3g}",
                     " / ".join(f"{optimum_norm(s, PARADOX_PAIR[0]):.3g}" for s in seeds)])
    evidence.table(f"Certified limits (mean ‖β‖₁ over the last {WINDOW} steps at the closed-form horizon), per seed "
                   f"× start ({', '.join(START_LABELS[:count])})",
                   ["α", f"λ1 = {PARADOX_PAIR[0]:g}", f"λ1 = {PARADOX_PAIR[1]:g}", f"prediction Pαλ1/2 (λ1 = {PARADOX_PAIR[1]:g})",
                    f"scikit-learn ‖β*‖₁ (λ1 = {PARADOX_PAIR[0]:g})"], rows)


@pytest.mark.fast
@pytest.mark.claim("L6", decides=True)
@pytest.mark.xdist_group("l6-penalty-sweep")
def test_larger_penalty_ends_with_larger_l1_norm(evidence):
    """Decides the paradox per α at the two largest steps of the grid, which reach their limits in 2·10^4 steps."""
    evidence.condition("NDGM on the 20×500 LASSO of eq. 15, W, y ~ U[−1,1], the same α and β0 for both penalties, "
                       "run to the closed-form horizon and certified at its limit")
    measured = decide_paradox(evidence, FAST_ALPHAS, FAST_SEEDS)
    paradox_table(evidence, measured, FAST_SEEDS)
    # the paper's numbers: at α = 0.01 the large penalty's optimum is 0 (λ1 > λ_max) and its band has ‖β‖₁ ≈ Pαλ1/2
    W, y, _ = instance(0)
    evidence.premise("the instance of eq. 15, with y of the paper's length", len(y) == claim("L6").paper_value("y length"))
    _, means, _ = limits(0, 1e-2)
    paper_start = START_LABELS.index("U[−1,1]")
    reproduced = dict(zip(LAMBDAS, means[1][paper_start]))
    evidence.measure("limit of ‖β‖₁, λ1=10, α=0.01, seed 0", reproduced[10.0], paper="large λ1: final L1 norm",
                     condition=f"prediction Pαλ1/2 = {W.shape[1] * 1e-2 * 10 / 2:g}; λ_max = {lasso.lambda_max(W, y):.3f}")
    evidence.measure("limit of ‖β‖₁, λ1=0.01, α=0.01, seed 0", reproduced[0.01], paper="small λ1: final L1 norm",
                     condition=f"scikit-learn's optimum: {optimum_norm(0, 0.01):.3g}")
    evidence.measure("limit of ‖β‖₁, λ1=0.1 (the text's other reading), α=0.01, seed 0", reproduced[0.1],
                     paper="small λ1: final L1 norm")
    evidence.measure("norm ratio λ1=10 / λ1=0.01, α=0.01, seed 0", reproduced[10.0] / reproduced[0.01],
                     paper="L1 norm increase factor (more than)")


@pytest.mark.slow
@pytest.mark.claim("L6", decides=True)
def test_larger_penalty_ends_with_larger_l1_norm_over_the_step_grid(evidence):
    """Decides the paradox per α over the whole grid from the natural starts, each run to its closed-form horizon."""
    evidence.note("Open point (review, 2026-12-02): the paper's printed norm for the large penalty, about Pαλ1/2, "
                  'implies α near 0.01, where the paradox holds. Read as a report of that one run, L6 holds. The suite '
                  'reads it as a claim about NDGM on eq. 15, and the paper does not state α. So the reversal below the '
                  'crossover α* counts against the claim.')
    evidence.condition("NDGM on the 20×500 LASSO of eq. 15 from β0 = 0 and a small start, α from 3e-4 to 0.01, "
                       "run to the closed-form horizon and certified at its limit")
    measured = decide_paradox(evidence, SLOW_ALPHAS, SLOW_SEEDS, SLOW_STARTS)
    paradox_table(evidence, measured, SLOW_SEEDS, SLOW_STARTS)
    predicted = crossover_prediction(SLOW_SEEDS)
    holds = [a for a, (small, large) in measured.items() if min(large) > max(small)]
    fails = [a for a, (small, large) in measured.items() if max(large) < min(small)]
    between = (max(fails), min(holds)) if holds and fails and max(fails) < min(holds) else None
    evidence.measure("crossover α (measured: largest α where λ1 = 0.01 ends larger, smallest where λ1 = 10 does)",
                     f"between {between[0]:g} and {between[1]:g}" if between else "not bracketed on the grid",
                     paper=None, condition=f"prediction α* = 2‖β*‖₁/(Pλ1) = {predicted:.2g}")
    evidence.note("Above λ_max ≈ 0.5 the large penalty's optimum is 0 and NDGM's entries oscillate in a band of "
                  "width αλ1, mean ‖β‖₁ = Pαλ1/2; the small penalty's limit sits at scikit-learn's optimum "
                  "(‖β*‖₁ ≈ 1.8-2.0). So the paradox holds only for α > α* = 2‖β*‖₁/(Pλ1).")


@functools.lru_cache(maxsize=None)
def optima(seed: int = 0):
    W, y, _ = instance(seed)
    return {lam: lasso.sklearn_optimum(W, y, lam) for lam in LAMBDAS}


@pytest.mark.fast
@pytest.mark.claim("L7")
@pytest.mark.xdist_group("l6-penalty-sweep")
def test_ndgm_is_dense_where_sklearn_is_sparse(evidence):
    evidence.condition("the paper's 20×500 instance, NDGM from β0 = 0, a small start and U[−1,1] at α = 0.01 and "
                       "0.03, run to the closed-form horizon; scikit-learn's Lasso(alpha=λ1/2) as the optimum")
    evidence.swept("start β0", list(START_LABELS))
    evidence.swept("step α", [f"{a:g}" for a in FAST_ALPHAS])
    rows = []
    for seed in FAST_SEEDS:
        for a in FAST_ALPHAS:
            _, _, final = limits(seed, a)
            for i, lam in enumerate(LAMBDAS):
                opt = optima(seed)[lam]
                zeros = (final[:, i] == 0).mean(axis=-1)
                rows.append([seed, a, lam, f"{(opt == 0).mean():.3f}", " / ".join(f"{z:.3f}" for z in zeros)])
                assert (zeros == 0).all()                   # NDGM: no exact zero from any start
                assert (opt == 0).mean() >= 0.95            # the optimum: at most N = 20 non-zeros
    evidence.table("Share of exact zeros: scikit-learn's optimum vs NDGM's end point from 0 / small / U[−1,1]",
                   ["seed", "α", "λ1", "scikit-learn", "NDGM"], rows)


#: L21's rule for "optimal", fixed before the run: ISTA's L4 within 0.1% of scikit-learn's optimum is optimal, 1% or
#: more above it is suboptimal, in between undecided.
L21_OPTIMAL, L21_SUBOPTIMAL = 1e-3, 1e-2
ISTA_STEPS = 10_000


@pytest.mark.fast
@pytest.mark.claim("L21", decides=True)
@pytest.mark.xdist_group("l6-penalty-sweep")
def test_soft_thresholding_gives_exact_zeros_and_the_optimum(evidence):
    """v1: soft thresholding gives the exact zeros NDGM cannot; v2: it gives sparsity but not optimality.

    Ground truth: scikit-learn's Lasso (coordinate descent, tol 1e-12). ISTA (gradient step 0.9/L on the smooth part,
    then soft thresholding) from the three starts, 10^4 steps, on the paper's 20×500 instance, λ1 ∈ {0.01, 0.1, 10}.
    """
    evidence.condition("the L1-penalised linear model of eq. 15 (its smooth part is L-smooth), the paper's 20×500 "
                       "instance; ISTA from β0 = 0, a small start and U[−1,1]; scikit-learn's Lasso as ground truth")
    evidence.swept("start β0", list(START_LABELS))
    W, y, _ = instance(0)
    beta0 = starts(0)
    step = 0.9 / lasso.smooth_lipschitz(W)
    rows_in = np.repeat(beta0, len(LAMBDAS), axis=0)
    ista = lasso.ista(W, y, list(LAMBDAS) * len(beta0), step, rows_in, ISTA_STEPS).reshape(len(beta0), len(LAMBDAS), -1)
    _, _, ndgm = limits(0, 1e-2)
    sparse, suboptimal, rows = [], [], []
    for i, lam in enumerate(LAMBDAS):
        opt = optima()[lam]
        best = lasso.lasso_objective(W, y, opt, lam)[0]
        gaps = (lasso.lasso_objective(W, y, ista[:, i], lam) - best) / best
        suboptimal.append((lam, [True if gap >= L21_SUBOPTIMAL else False if abs(gap) <= L21_OPTIMAL else None
                                 for gap in gaps]))
        support_match = [float(((x == 0) == (opt == 0)).mean()) for x in ista[:, i]]
        sparse.extend(bool((x == 0).mean() >= 0.95 and (n == 0).mean() == 0) for x, n in zip(ista[:, i], ndgm[:, i]))
        rows.append([lam, f"{best:.6g}", " / ".join(f"{g:+.2e}" for g in gaps), f"{(opt == 0).mean():.3f}",
                     " / ".join(f"{(x == 0).mean():.3f}" for x in ista[:, i]),
                     " / ".join(f"{m:.3f}" for m in support_match),
                     " / ".join(f"{(n == 0).mean():.3f}" for n in ndgm[:, i])])
    evidence.decision("v1 §3's iterative methods for the LASSO (soft thresholding, ISTA) return the exact zeros "
                      "that NDGM does not",
                      rules.counterexample_rule(sparse, "L21 (v1 §3): soft thresholding gives exact zeros, NDGM none",
                                                "runs (start × λ1) where ISTA has ≥ 95% exact zeros and NDGM none",
                                                min_n=len(LAMBDAS)))
    W, y, _ = instance(0)
    smoothness = float(np.linalg.eigvalsh(W.T @ W).max())  # a Lipschitz constant of the gradient of ‖y − Wβ‖²/2
    for lam, outcomes in suboptimal:
        cell = f"v2: any soft-thresholding solution is sparse but not optimal, on the L1-penalised linear model, " \
               f"λ1 = {lam:g}"
        # v2 §4 blames the suboptimality on a loss that is not L-smooth; the LASSO's smooth part is.
        evidence.premise(f"the smooth part of the loss is not L-smooth, as v2 §4's networks (here its gradient is "
                         f"Lipschitz with L = {smoothness:.3g})", not math.isfinite(smoothness), cell=cell)
        evidence.decision(cell,
                          rules.counterexample_rule(
                              outcomes, "L21 (v2 §4): soft thresholding yields sparsity but not optimality",
                              f"starts whose ISTA L4 is ≥ {L21_SUBOPTIMAL:.0%} above scikit-learn's optimum "
                              f"(optimal when within {L21_OPTIMAL:.1%} of it, either side)", min_n=len(START_LABELS),
                              void="void: between 0.1% and 1% from the optimum"))
    evidence.table(f"ISTA ({ISTA_STEPS} steps, from 0 / small / U[−1,1]) against scikit-learn's optimum, seed 0",
                   ["λ1", "L4 at scikit-learn's optimum", "ISTA's relative excess of L4", "scikit-learn share 0",
                    "ISTA share 0", "ISTA entries with the optimum's zero pattern", "NDGM share 0 (α = 0.01)"], rows)
    evidence.note("v2 draws the 'not optimality' from networks, whose losses are not L-smooth; on the LASSO, whose "
                  "smooth part is L-smooth, ISTA is the proximal gradient method and reaches the optimum. The "
                  "network reading is not tested here (the VGG16 runs of L19-L20 use no soft thresholding).")
    # the Lasso path, for the card
    path = np.logspace(-3, 1, 9)
    W, y, beta_u = instance(0)
    ista_path = lasso.ista(W, y, path, step, np.zeros((len(path), W.shape[1])), 5_000)
    ndgm_path = lasso.ndgm(W, y, path, 1e-2, np.repeat(beta_u, len(path), 0), 10_000)
    sk = np.stack([lasso.sklearn_optimum(W, y, lam) for lam in path])
    fig = figures.lasso_path(path, {"sklearn Lasso": sk, "ISTA": ista_path, "NDGM α=0.01": ndgm_path})
    evidence.figure(fig, caption="Lasso path on the 20×500 instance (seed 0): optimum and ISTA shrink to 0 as λ1 "
                                 "grows; NDGM's L1 norm grows with λ1 once λ1 exceeds λ_max")
