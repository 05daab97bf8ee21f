"""Analysis of the deep-net runs and the rules that decide C5, C6 and L18-L20, fixed before any run.

Every function here is a pure function of run results (``gdcut.train.train``
dicts) or of numbers, so the same code decides at every scale and the rules
can be tested on planted results.

C5/C6 (v1 Fig. 2; v2 Fig. 2, App. A.1)
    Statistic per run: the area under the training-loss curve per step (mean
    minibatch cross entropy over the run); lower is faster. Per seed the paired
    gap d = AUC(ReLU) − AUC(GELU) (same seed: same initial weights and batch
    order). Margin of practical size: 2% of the cell's mean AUC. A cell where
    any run ends above 0.75 ln 10 (chance is ln 10) did not train: inconclusive.
    C5 per depth without BN: paired superiority of d over the margin
    (``gdcut.rules.paired_superiority``); C5 "the gap widens with depth": Welch
    superiority of d at the deepest over the shallowest net; C6 per depth with
    BN: TOST equivalence of d within the margin.

L18-L20 (v1 §3, App. B; v2 §4, Fig. 3, Table 2, App. C)
    The analysis (v2 §4, Prop. B.1-B.5) speaks about weights the penalty
    dominates, once they have reached 0 and oscillate around it. A run ends
    before its *horizon* when fewer than 99% of its sampled initial weights have
    reached 0 under the penalty alone (the same torch.optim rule on
    λ1‖w‖₁ from the run's own initial weights and optimiser state; for SGD the
    closed form of v2 Prop. B.2, n_k = |w0|/(αλ1)), or, for the L1-norm order
    under SGD, before the step from which the closed form predicts the larger
    λ1's L1 norm to exceed the smaller's. Such a run is inconclusive, the same
    rule for every optimiser and both versions.
    L1-norm order (L18, L19b): ratio r = final L1 norm at the larger λ1 over
    that at the smaller; supports when r ≥ 1.1, refutes when r ≤ 1/1.1,
    inconclusive in between (one run per λ1, so a 10% band for noise).
    Optimisers differ (L19a): largest over smallest final L1 norm across the
    three optimisers at one λ1; supports when ≥ 2, refutes below.
    Share pattern (L18, L20): a row of shares below 1e-5 agrees with the paper
    when the difference share(small λ1) − share(large λ1) has the paper's sign
    and at least half its size, and each share lies on the same side of 5% as
    the paper's; supports when it agrees, refutes otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcut import rules, theory, validation

CHANCE = math.log(10)
TRAINED = 0.75 * CHANCE
MARGIN_RELATIVE = 0.02
HORIZON_QUANTILE = 0.99
L1_ORDER_BAND = 1.1
OPTIMISERS_DIFFER = 2.0
SHARE_SIDE = 0.05
THRESHOLD = 1e-5  # v1 §3, v2 Table 2


# --------------------------------------------------------------------------- C5, C6
def area_under_loss(result: dict) -> float:
    """Mean per-step training loss over the run: the area under the training-loss curve per step."""
    losses = result.get("step_loss") if isinstance(result, dict) else None
    if not losses:
        raise ValueError("result has no recorded steps")
    return sum(losses) / len(losses)


def paired_gaps(runs: dict[str, list[dict]]) -> list[float]:
    """d = AUC(ReLU) − AUC(GELU) per seed; positive means GELU trained faster."""
    if len(runs["relu"]) != len(runs["gelu"]):
        raise ValueError("runs must hold one ReLU and one GELU run per seed")
    return [area_under_loss(r) - area_under_loss(g) for r, g in zip(runs["relu"], runs["gelu"])]


def untrained(runs: dict[str, list[dict]]) -> dict[str, list[float]]:
    """Final-epoch losses above 0.75 ln 10, per activation: runs that never left the chance plateau."""
    return {act: [round(r["epoch_loss"][-1], 3) for r in rs if not r["epoch_loss"][-1] <= TRAINED]
            for act, rs in runs.items()}


def margin(runs: dict[str, list[dict]]) -> float:
    aucs = [area_under_loss(r) for rs in runs.values() for r in rs]
    return MARGIN_RELATIVE * sum(aucs) / len(aucs)


GAP = "paired gap d = AUC(ReLU) − AUC(GELU) per seed (mean training loss per step; d > 0: GELU faster)"
C5_RULE = ("C5: GELU trains faster than ReLU at this depth without batch norm: one-sided paired t bounds on d, "
           f"margin {MARGIN_RELATIVE:.0%} of the mean AUC; void if any run ends above 0.75 ln 10")
C5_WIDENING_RULE = ("C5: the gap widens with depth: one-sided Welch bounds on mean d(deepest) − mean d(shallowest), "
                    f"margin {MARGIN_RELATIVE:.0%} of the mean AUC; void if any run of either depth ends above 0.75 ln 10")
C6_RULE = ("C6: with batch norm ReLU and GELU are indistinguishable: TOST on d within ± "
           f"{MARGIN_RELATIVE:.0%} of the mean AUC; void if any run ends above 0.75 ln 10")


def _void_if_untrained(runs_by_cell: dict, rule: str, statistic: str, threshold: str) -> rules.Ruling | None:
    """An inconclusive ruling naming the runs that never left the chance plateau, if any did not."""
    stuck = []
    for cell, runs in runs_by_cell.items():
        for activation, losses in untrained(runs).items():
            if losses:
                stuck.append(f"{cell + ' ' if cell else ''}{activation.upper()} final losses {losses}")
    if not stuck:
        return None
    n = min(len(runs["relu"]) for runs in runs_by_cell.values())
    return rules.Ruling("inconclusive", rule, statistic, threshold, n, {},
                        f"nets did not train (final-epoch loss above {TRAINED:.3f} = 0.75 ln 10): " + "; ".join(stuck))


def c5_ruling(runs: dict[str, list[dict]]) -> rules.Ruling:
    threshold = "supports: lower 95% bound of mean d > 0 and mean d ≥ margin; refutes: upper bound < margin"
    return _void_if_untrained({"": runs}, C5_RULE, GAP, threshold) or rules.paired_superiority(
        paired_gaps(runs), margin(runs), C5_RULE, GAP)


def c5_widening_ruling(deep: dict[str, list[dict]], shallow: dict[str, list[dict]]) -> rules.Ruling:
    threshold = "supports: lower 95% Welch bound > 0 and difference ≥ margin; refutes: upper bound < margin"
    statistic = "mean d at the deepest net − mean d at the shallowest"
    both = {"relu": deep["relu"] + shallow["relu"], "gelu": deep["gelu"] + shallow["gelu"]}
    return _void_if_untrained({"deep": deep, "shallow": shallow}, C5_WIDENING_RULE, statistic, threshold) or \
        rules.difference_superiority(paired_gaps(deep), paired_gaps(shallow), margin(both), C5_WIDENING_RULE,
                                     statistic)


def c6_ruling(runs: dict[str, list[dict]]) -> rules.Ruling:
    threshold = "supports: 90% interval of mean d inside ± margin; refutes: wholly outside"
    return _void_if_untrained({"": runs}, C6_RULE, GAP, threshold) or rules.paired_equivalence(
        paired_gaps(runs), margin(runs), C6_RULE, GAP)


# --------------------------------------------------------------------------- L18-L20: the penalty alone
def penalty_only_run(initial_weights, optimiser: str, lr: float, lambda1: float, steps: int,
                     before: tuple[float, int] | None = None):
    """The torch.optim rule on lambda1*||w||_1 alone (v2 eq. 7) from ``initial_weights``, float32.

    Returns (final weights, arrival step per weight): the first step at which
    the weight reached 0 (changed sign or became 0); ``steps + 1`` where it
    never did, 0 where it started at 0. ``before = (lambda1_before, steps_before)``
    first runs the same optimiser on the other penalty and then resets the
    weights, as v2 App. C's loop does with its one optimiser per kind.
    """
    import torch

    from gdcut.train import make_optimiser

    validation.finite_array("initial_weights", initial_weights, ndim=1)
    validation.non_negative("lambda1", lambda1)
    validation.non_negative_int("steps", steps)
    start = torch.as_tensor(initial_weights).detach().float()
    weights = start.clone().requires_grad_(True)
    opt = make_optimiser(optimiser, [weights], lr)
    if before is not None:
        for _ in range(before[1]):
            weights.grad = before[0] * torch.sign(weights.detach())
            opt.step()
        with torch.no_grad():
            weights.copy_(start)
    start_sign = torch.sign(start)
    arrival = torch.full(start.shape, steps + 1, dtype=torch.int64)
    arrival[start == 0] = 0
    for step in range(1, steps + 1):
        # the gradient autograd gives lambda1 * sum|w| (tested equal), without building a graph each step
        weights.grad = lambda1 * torch.sign(weights.detach())
        opt.step()
        reached = (torch.sign(weights.detach()) != start_sign) & (arrival > steps)
        arrival[reached] = step
    return weights.detach(), arrival


def band_width(optimiser: str, lr: float, lambda1: float) -> float | None:
    """Width of the 2-cycle a penalty-dominated weight settles in (None where no closed form is derived)."""
    if optimiser == "sgd":
        return theory.step_length(lr, lambda1)  # v2 Prop. B.2
    if optimiser == "rmsprop":  # torch defaults: alpha = 0.99, eps = 1e-8; v2 Prop. B.5
        return float(theory.rmsprop_step_torch(lr, 0.99, 1e-8, lambda1, 10**9))
    return None


@dataclass(frozen=True)
class Prediction:
    """What the LASSO analysis predicts for one run if the penalty alone acted."""
    share: float               # share of sampled weights below 1e-5 at the run's last step
    l1: float                  # L1 norm scaled to all parameters
    band: float | None         # width of the final 2-cycle
    horizon: int               # steps for 99% of sampled weights to reach 0; steps + 1 when not within the run
    run_steps: int

    @property
    def band_limit(self) -> float | None:
        return None if self.band is None else min(1.0, THRESHOLD / self.band)

    @property
    def reached(self) -> bool:
        return self.horizon <= self.run_steps


_PREDICTED: dict[str, Prediction] = {}  # several tests read the same run's prediction


def predict(result: dict) -> Prediction:
    """The penalty-only prediction for a run (memoised per run key)."""
    key = result.get("key")
    if key in _PREDICTED:
        return _PREDICTED[key]
    config = result["config"]
    previous = config.get("optimiser_state_from")
    before = None
    if previous:
        per_epoch = result["steps"] // config["epochs"]
        before = (previous["lambda1"], previous["epochs"] * per_epoch)
    final, arrival = penalty_only_run(result["initial_weight_sample"], config["optimiser"], config["lr"],
                                      config["lambda1"], result["steps"], before)
    prediction = Prediction(
        share=float((final.abs() < THRESHOLD).float().mean()),
        l1=float(final.abs().double().mean()) * result["parameters"],
        band=band_width(config["optimiser"], config["lr"], config["lambda1"]),
        horizon=int(np.quantile(arrival.numpy(), HORIZON_QUANTILE, method="higher")),
        run_steps=result["steps"])
    if key is not None:
        _PREDICTED[key] = prediction
    return prediction


def sgd_penalty_l1(result: dict, steps: int) -> float:
    """Penalty-only L1 norm of an SGD run after ``steps`` (closed form, v2 Prop. B.1-B.2), scaled to all parameters."""
    sample = result["initial_weight_sample"].double().numpy()
    iterate = theory.ndgm_iterate(sample, result["config"]["lr"], result["config"]["lambda1"], steps)
    return float(np.abs(iterate).mean()) * result["parameters"]


def sgd_crossing_step(small: dict, large: dict, limit: int = 10**7) -> int:
    """First step at which the penalty-only L1 norm of the small-λ1 SGD run falls below the large one's.

    The closed form's answer to "how long until a larger λ1 ends with the larger
    L1 norm"; bisection, since the small run's norm only falls while the large
    run's settles in its band. ``limit`` when it never does within ``limit``.
    """
    low, high = 0, limit
    if sgd_penalty_l1(small, high) >= sgd_penalty_l1(large, high):
        return limit
    while high - low > 1:
        middle = (low + high) // 2
        if sgd_penalty_l1(small, middle) < sgd_penalty_l1(large, middle):
            high = middle
        else:
            low = middle
    return high


def _too_short(results: list[dict], rule: str, statistic: str, threshold: str, extra: int | None = None):
    """An inconclusive ruling when any run ends before its horizon (or before ``extra``, a crossing step)."""
    short = [f"{r['config']['optimiser']} λ1={r['config']['lambda1']:g}: {r['steps']} steps, horizon "
             + (f"{predict(r).horizon}" if predict(r).reached else f"> {r['steps']}")
             for r in results if not predict(r).reached]
    if extra is not None and results[0]["steps"] < extra:
        short.append(f"{results[0]['steps']} steps, closed-form crossing of the two L1 norms at step {extra}")
    if not short:
        return None
    return rules.Ruling("inconclusive", rule, statistic, threshold, len(results), {},
                        "run ended before the horizon the analysis needs: " + "; ".join(short))


L1_ORDER_RULE = ("L1-norm order: r = final L1 norm at the larger λ1 / at the smaller; inconclusive before the "
                 "horizon (99% of sampled weights at 0 under the penalty alone; for SGD also the closed-form "
                 "crossing step)")


def l1_order_ruling(small: dict, large: dict) -> rules.Ruling:
    """Does the larger λ1 end with the larger L1 norm (the paradox of v1 §3, v2 §4)?"""
    threshold = f"supports: r ≥ {L1_ORDER_BAND}; refutes: r ≤ 1/{L1_ORDER_BAND}; inconclusive between"
    statistic = "r = L1(larger λ1) / L1(smaller λ1), final epoch"
    crossing = sgd_crossing_step(small, large) if small["config"]["optimiser"] == "sgd" else None
    void = _too_short([small, large], L1_ORDER_RULE, statistic, threshold, crossing)
    if void:
        return void
    ratio = large["epoch_l1"][-1] / small["epoch_l1"][-1]
    values = {"r": ratio, "steps": small["steps"]} | ({"crossing step": crossing} if crossing else {})
    if ratio >= L1_ORDER_BAND:
        return rules.Ruling("supports", L1_ORDER_RULE, statistic, threshold, 2, values)
    if ratio <= 1 / L1_ORDER_BAND:
        return rules.Ruling("refutes", L1_ORDER_RULE, statistic, threshold, 2, values)
    return rules.Ruling("inconclusive", L1_ORDER_RULE, statistic, threshold, 2, values,
                        f"r = {ratio:.3g} within the {L1_ORDER_BAND} noise band of one run per λ1")


OPTIMISERS_DIFFER_RULE = ("L19a: final L1 norms differ substantially across SGD, RMSProp and Adam at one λ1; "
                          "inconclusive before every run's horizon")


def optimisers_differ_ruling(results: list[dict]) -> rules.Ruling:
    threshold = f"supports: largest / smallest ≥ {OPTIMISERS_DIFFER:g}; refutes: below"
    statistic = "largest / smallest final L1 norm across the three optimisers"
    void = _too_short(results, OPTIMISERS_DIFFER_RULE, statistic, threshold)
    if void:
        return void
    finals = [r["epoch_l1"][-1] for r in results]
    ratio = max(finals) / min(finals)
    decision = "supports" if ratio >= OPTIMISERS_DIFFER else "refutes"
    return rules.Ruling(decision, OPTIMISERS_DIFFER_RULE, statistic, threshold, len(results), {"ratio": ratio})


SHARE_RULE = ("share pattern: a row of shares |w| < 1e-5 (small λ1, large λ1) agrees with the paper when the "
              "difference has the paper's sign and at least half its size and each share lies on the paper's side "
              "of 5%; inconclusive before the horizon")


def share_pattern_ruling(small: dict, large: dict, paper_small: float, paper_large: float) -> rules.Ruling:
    """Does the measured row of shares (fractions) agree with the paper's (percent)?"""
    threshold = (f"supports: difference ≥ half the paper's {paper_small - paper_large:+.4g} points with its sign, "
                 "and both shares on the paper's side of 5%; refutes otherwise")
    statistic = "share(small λ1) − share(large λ1), percentage points"
    void = _too_short([small, large], SHARE_RULE, statistic, threshold)
    if void:
        return void
    measured = (100 * small["share_below_threshold"], 100 * large["share_below_threshold"])
    paper = (paper_small, paper_large)
    difference, paper_difference = measured[0] - measured[1], paper[0] - paper[1]
    same_order = difference * paper_difference > 0 and abs(difference) >= abs(paper_difference) / 2
    same_side = all((m < 100 * SHARE_SIDE) == (p < 100 * SHARE_SIDE) for m, p in zip(measured, paper))
    values = {"small λ1 %": measured[0], "large λ1 %": measured[1], "difference": difference,
              "paper difference": paper_difference}
    decision = "supports" if same_order and same_side else "refutes"
    return rules.Ruling(decision, SHARE_RULE, statistic, threshold, 2, values)
