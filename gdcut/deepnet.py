"""Analysis of the deep-net runs and the rules that decide C5, C6 and L18-L20, fixed before any run.

Every function here is a pure function of run results (``gdcut.train.TrainResult``)
or of numbers, so the same code decides at every scale and the rules can be
tested on planted results. The last block holds what the claim tests ask for:
the runs of each cell (through ``gdcut.train.train`` and its cache) and what
their cards record.

C5/C6 (v1 Fig. 2; v2 Fig. 2, App. A.1)
    Statistic per run: the area under the training-loss curve per step (mean
    minibatch cross entropy over the run); lower is faster. Per seed the paired
    gap d = ln AUC(ReLU) − ln AUC(GELU) (same seed: same initial weights and
    batch order), a log ratio so that a deeper net's larger loss area alone
    does not widen it. Margin of practical size: ln 1.02 (2%). A cell where
    every run of one activation ends above 0.75 ln 10 (chance is ln 10) has
    nothing trained to compare: inconclusive; a single stuck run stays in the
    data. C5 per depth without BN: paired superiority of d over the margin
    (``gdcut.rules.paired_superiority``); C5 "the gap widens with depth": Welch
    superiority of d at the deepest over the shallowest net; C6 per depth with
    BN, "indistinguishable": TOST equivalence of d within ± the seed-to-seed
    spread (``indistinguishable_ruling``: the pooled standard deviation across
    seeds of ln AUC within each activation, so the activation's effect is
    measured against what reseeding alone moves).
    The sweep (``sweep_ruling``, one rule for C5 and C6): each setting of the
    unstated optimiser and learning rate is decided by the rule above; across
    the sweep the claim holds where most settings support it, is refuted where
    most refute it, and is inconclusive otherwise (the sweep splits). A sweep of
    fewer than two optimisers × two learning rates decides nothing, in either
    direction: evidence too weak to refute is too weak to support.

L18-L20 (v1 §3, App. B; v2 §4, Fig. 3, Table 2, App. C)
    The analysis (v2 §4, Prop. B.1-B.5) speaks about weights the penalty
    dominates, once they have reached 0 and oscillate around it. A pair of runs
    is inconclusive when any run cannot speak to it:
    - premise: RMSProp or Adam at a batch other than the paper's 512 (their
      step divides by the root of a second moment that holds the minibatch
      gradient noise, so a miniature's batch changes the quantity measured);
    - horizon: fewer than 99% of its sampled initial weights have reached 0
      under the penalty alone (the same torch.optim rule on λ1‖w‖₁ from the
      run's own initial weights and optimiser state; for SGD the closed form
      of v2 Prop. B.2, n_k = |w0|/(αλ1)), or, for the L1-norm order under SGD,
      the run ends before the closed-form crossing of the two L1 norms;
    - certificate (rule 4, stationarity): the statistic the rule decides on,
      from any epoch of each run's settling window (the last 3 epochs, or a
      fifth of the horizon if longer), reaches both sides of a decision edge;
      or it reads otherwise at half the run lengths, one doubling earlier, or
      the halves cannot speak. (A statistic that reaches the 10% noise band
      from one side is within noise of its edge: inconclusive once certified,
      since running on cannot settle noise.) An uncertified pair runs on
      up to the scale's cap (``settled``): the runs whose own motion moved
      the statistic (``_movers``; every run when none alone did), twice as
      long, resumed where they ended; an
      App. C λ1 = 2 run that runs on hands its successor a new optimiser state,
      so the successor starts again from it.
    The statistics average the settling window, so one lucky step cannot decide.
    L1-norm order (L18, L19b): ratio r = L1 norm at the larger λ1 over that at
    the smaller; supports when r ≥ 1.1, refutes when r ≤ 1/1.1, inconclusive in
    between (one run per λ1, so a 10% band for noise).
    Optimisers differ (L19a): largest over smallest L1 norm across the three
    optimisers at one λ1; supports when ≥ 2, refutes below.
    Share pattern (L18, L20): a row of shares below 1e-5 agrees with the paper
    when the difference share(small λ1) − share(large λ1) has the paper's sign
    and at least half its size, and each share lies on the same side of 5% as
    the paper's; supports when it agrees, refutes otherwise. Table 2 is what
    App. C's code printed, so only App. C's procedure decides L20.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdcut import closed_forms, optimisers, rules, scales, train, validation
from gdcut.ledger.registry import claim

CHANCE = math.log(10)
TRAINED = 0.75 * CHANCE
#: C5/C6 margin of practical size: GELU's area under the loss curve 2% below ReLU's (or above), as a log ratio.
MARGIN = math.log(1.02)
HORIZON_QUANTILE = scales.HORIZON_QUANTILE
L1_ORDER_BAND = 1.1
SHARE_SIDE = 0.05
#: Fewest epochs at the end of an L1 run over which its L1 norm and share must have settled, and are averaged
#: (the window is longer for a long horizon: ``settle_window``).
SETTLE_EPOCHS = scales.SETTLE_EPOCHS
#: The paper's batch (v1 App. B, v2 App. C); RMSProp's and Adam's steps depend on it through the second moment.
PAPER_BATCH = claim("L19").paper_value("batch size")


# --------------------------------------------------------------------------- C5, C6
#: The runs of one C5/C6 cell: {"relu": [one per seed], "gelu": [one per seed]}, paired by seed.
PairedRuns = dict[str, list[train.TrainResult]]


def area_under_loss(result: train.TrainResult) -> float:
    """Mean per-step training loss over the run: the area under the training-loss curve per step."""
    losses = result.step_loss if isinstance(result, train.TrainResult) else None
    if not losses:
        raise ValueError("result has no recorded steps")
    return sum(losses) / len(losses)


def paired_gaps(runs: PairedRuns) -> list[float]:
    """d = ln AUC(ReLU) − ln AUC(GELU) per seed; positive means GELU trained faster.

    A log ratio, so a deeper net's larger loss area does not by itself make a
    larger gap (a constant relative advantage is a constant d).
    """
    if len(runs["relu"]) != len(runs["gelu"]):
        raise ValueError("runs must hold one ReLU and one GELU run per seed")
    return [math.log(area_under_loss(r)) - math.log(area_under_loss(g)) for r, g in zip(runs["relu"], runs["gelu"])]


def untrained(runs: PairedRuns) -> dict[str, list[float]]:
    """Final-epoch losses above 0.75 ln 10, per activation: runs that never left the chance plateau."""
    return {act: [round(r.epoch_loss[-1], 3) for r in rs if not r.epoch_loss[-1] <= TRAINED]
            for act, rs in runs.items()}


GAP = "paired gap d = ln AUC(ReLU) − ln AUC(GELU) per seed (AUC: mean training loss per step; d > 0: GELU faster)"
VOID = "void if every run of one activation ends above 0.75 ln 10 (nothing trained to compare)"
C5_RULE = ("C5: GELU trains faster than ReLU at this depth without batch norm: one-sided paired t bounds on d, "
           f"margin ln 1.02 (2%); {VOID}")
C5_WIDENING_RULE = ("C5: the gap widens with depth: one-sided Welch bounds on mean d(deepest) − mean d(shallowest), "
                    f"margin ln 1.02 (2%); {VOID} at either depth")
C6_RULE = ("C6: with batch norm ReLU and GELU are indistinguishable: TOST on d within ± the seed-to-seed spread "
           f"(pooled standard deviation across seeds of ln AUC within each activation); {VOID}")


#: The key of a ruling's values that marks it void because its nets did not train (``_void_if_untrained``).
UNTRAINED = "untrained"


def _void_if_untrained(runs_by_cell: dict, rule: str, statistic: str, threshold: str) -> rules.Ruling | None:
    """An inconclusive ruling when every run of one activation in a cell stayed on the chance plateau.

    A single stuck run stays in the data: failing to train is part of "training
    slower", and its area under the loss is bounded by ln 10.
    """
    void = [f"{cell + ' ' if cell else ''}{activation.upper()} final losses {losses}"
            for cell, runs in runs_by_cell.items() for activation, losses in untrained(runs).items()
            if len(losses) == len(runs[activation])]
    if not void:
        return None
    n = min(len(runs["relu"]) for runs in runs_by_cell.values())
    return rules.Ruling("inconclusive", rule, statistic, threshold, n, {UNTRAINED: "at chance loss"},
                        f"nets did not train (every run above {TRAINED:.3f} = 0.75 ln 10): " + "; ".join(void))


def _stuck_note(runs_by_cell: dict) -> str:
    stuck = [f"{cell + ' ' if cell else ''}{activation.upper()} {losses}"
             for cell, runs in runs_by_cell.items() for activation, losses in untrained(runs).items() if losses]
    return ("runs kept as data although stuck at chance: " + "; ".join(stuck)) if stuck else ""


def _with_note(ruling: rules.Ruling, note: str) -> rules.Ruling:
    if not note:
        return ruling
    return dataclasses.replace(ruling, values=dict(ruling.values, note=note))


#: What a sweep of the unstated settings must cover before it decides (either way): the suite's choice.
SWEEP_MIN_OPTIMISERS = 2
SWEEP_MIN_RATES = 2
SWEEP_RULE = ("across the sweep of the optimiser and learning rate the paper does not state (one rule for C5 and "
              "C6): a setting decides only where its run and the run's first half reach the same decision; holds "
              "where most settings support, refuted where most refute, inconclusive otherwise; fewer "
              f"than {SWEEP_MIN_OPTIMISERS} optimisers × {SWEEP_MIN_RATES} learning rates whose nets trained decide "
              "nothing either way")

#: The (optimiser, lr) settings of a sweep, each with the paired runs of one cell.
SweepRuns = dict[tuple[str, float], PairedRuns]

#: The natural default of the C5/C6 open parameter "training length" (claims.toml): the run each scale makes.
NATURAL_LENGTH = "the scale's run length"
#: A ruling of one setting carries, for each training length, ``LENGTH_DECISION + label``: what it decided there.
LENGTH_DECISION = "decision at "


def first_epochs(result: train.TrainResult, epochs: int) -> train.TrainResult:
    """The run stopped after its first ``epochs``: its curves cut there, its shares those of that epoch.

    With a constant learning rate a run's first epochs are, step for step, the
    shorter run (same seed, same batch order), so a second training length costs
    no training. The test accuracy and the shares at every threshold were measured
    only at the end, so the prefix has none (NaN and ()).
    """
    validation.positive_int("epochs", epochs)
    if not isinstance(result, train.TrainResult) or epochs > result.config.epochs:
        raise ValueError(f"result must be a TrainResult of at least {epochs} epochs")
    if epochs == result.config.epochs:
        return result
    steps = epochs * (result.steps // result.config.epochs)
    return dataclasses.replace(
        result, config=dataclasses.replace(result.config, epochs=epochs), steps=steps, step_loss=result.step_loss[:steps],
        epoch_loss=result.epoch_loss[:epochs], epoch_l1=result.epoch_l1[:epochs],
        epoch_share=result.epoch_share[:epochs], epoch_seconds=result.epoch_seconds[:epochs],
        share_below_threshold=result.epoch_share[epochs - 1], final_shares=(), test_accuracy=math.nan,
        key=None if result.key is None else f"{result.key}:first{epochs}")


def lengths(runs: PairedRuns) -> dict[str, PairedRuns]:
    """A C5/C6 cell at the scale's run length and at its first half in whole epochs, labelled by its steps
    ({label: PairedRuns}); a run of one epoch has no shorter length."""
    first = runs["relu"][0]
    half = first.config.epochs // 2
    cells = {NATURAL_LENGTH: runs}
    if half >= 1:
        label = f"its first {half * (first.steps // first.config.epochs):,} steps"
        cells[label] = {activation: [first_epochs(r, half) for r in rs] for activation, rs in runs.items()}
    return cells


#: A setting that decides carries, beside its narrowest ``rules.CLEARANCE``, that length's margin and label.
NARROWEST_MARGIN = "margin where narrowest"
NARROWEST_LENGTH = "length where narrowest"


def lengths_ruling(by_length: dict[str, rules.Ruling]) -> rules.Ruling:
    """One setting's decision over its training lengths ({label: Ruling}, the scale's run length first).

    The decision every length reaches; inconclusive where they differ, or where
    only one length was read (rule 5: the length is open). The lengths share their
    first half, so together they count as one setting of the sweep, not two.
    """
    if NATURAL_LENGTH not in by_length or not all(isinstance(r, rules.Ruling) for r in by_length.values()):
        raise ValueError(f"by_length must map training lengths, {NATURAL_LENGTH!r} among them, to Rulings")
    natural = by_length[NATURAL_LENGTH]
    values = dict(natural.values, **{LENGTH_DECISION + label: r.decision for label, r in by_length.items()})
    decisions = {r.decision for r in by_length.values()}
    if len(by_length) < 2:
        return dataclasses.replace(natural, decision="inconclusive", values=values,
                                   reason=natural.reason or "read at one training length only")
    if len(decisions) == 1:  # it decides by the narrower of its lengths' clearances, each against its own margin
        cleared = [(r.values[rules.CLEARANCE], r.values["margin"], label) for label, r in by_length.items()
                   if rules.CLEARANCE in r.values]
        narrowest = dict(zip((rules.CLEARANCE, NARROWEST_MARGIN, NARROWEST_LENGTH), min(cleared))) if cleared else {}
        return dataclasses.replace(natural, values=dict(values, **narrowest))
    at = "; ".join(f"{r.decision} at {label}" for label, r in by_length.items())
    return dataclasses.replace(natural, decision="inconclusive", values=values,
                               reason=f"the training lengths disagree ({at})")


def over_lengths(rule_of: Callable[..., rules.Ruling], *sweeps: SweepRuns) -> dict[tuple[str, float], rules.Ruling]:
    """Each setting's ``lengths_ruling``: ``rule_of`` applied, at each training length, to that setting's cell in
    every sweep given (one for C5 and C6 per depth, two for C5's widening with depth)."""
    decided = {}
    for setting in sweeps[0]:
        cells = [lengths(sweep[setting]) for sweep in sweeps]
        decided[setting] = lengths_ruling({label: rule_of(*(c[label] for c in cells)) for label in cells[0]})
    return decided


def setting_name(setting: tuple[str, float]) -> str:
    optimiser, lr = setting
    return f"{optimisers.DISPLAY_NAMES[optimiser]} lr={lr:g}"


def unswept(settings) -> list[str]:
    """What a sweep over ``settings`` ((optimiser, lr) pairs) leaves unswept: [] when it covers the rule's minimum."""
    settings = list(settings)
    kinds = {optimiser for optimiser, _ in settings}
    missing = []
    if len(kinds) < SWEEP_MIN_OPTIMISERS:
        names = ", ".join(optimisers.DISPLAY_NAMES[k] for k in sorted(kinds)) or "none"
        missing.append(f"optimiser (only {names}; the rule needs {SWEEP_MIN_OPTIMISERS})")
    thin = [k for k in sorted(kinds) if len({lr for o, lr in settings if o == k}) < SWEEP_MIN_RATES]
    if thin:
        missing.append(f"learning rate (one value for {', '.join(optimisers.DISPLAY_NAMES[k] for k in thin)}; "
                       f"the rule needs {SWEEP_MIN_RATES} each)")
    return missing


def sweep_ruling(per_setting: dict, rule: str, statistic: str) -> rules.Ruling:
    """One decision across a sweep from the ruling of each (optimiser, lr) setting (``SWEEP_RULE``).

    Supports when more than half of the settings support, refutes when more than
    half refute, inconclusive otherwise; inconclusive in both directions when the
    settings do not cover ``SWEEP_MIN_OPTIMISERS`` optimisers × ``SWEEP_MIN_RATES``
    learning rates each (``unswept``), whatever the one setting says. A setting
    whose nets did not train (``UNTRAINED``) covers nothing: a statistic at its
    ceiling decides nothing, so it cannot stand in for an optimiser or a rate.
    """
    if not per_setting or not all(isinstance(r, rules.Ruling) for r in per_setting.values()):
        raise ValueError("per_setting must map each (optimiser, lr) setting to a gdcut.rules.Ruling")
    threshold = "supports: more than half of the settings support; refutes: more than half refute"
    decisions = {setting_name(setting): r.decision for setting, r in per_setting.items()}
    counts = {d: sum(1 for x in decisions.values() if x == d) for d in ("supports", "refutes", "inconclusive")}
    values = dict(counts, settings=len(decisions), **decisions)
    full_rule = f"{rule}; {SWEEP_RULE}"
    n = len(decisions)
    trained = [setting for setting, r in per_setting.items() if UNTRAINED not in r.values]
    missing = unswept(trained)
    if missing:
        untrained = [setting_name(setting) for setting in per_setting if setting not in trained]
        where = f" among the settings whose nets trained (not: {', '.join(untrained)})" if untrained else ""
        return rules.Ruling("inconclusive", full_rule, statistic, threshold, n, values,
                            f"the sweep does not cover what the paper leaves open{where}: " + "; ".join(missing)
                            + " (a setting that cannot refute the claim cannot support it either)")
    if 2 * counts["supports"] > n:
        return rules.Ruling("supports", full_rule, statistic, threshold, n, values)
    if 2 * counts["refutes"] > n:
        return rules.Ruling("refutes", full_rule, statistic, threshold, n, values)
    return rules.Ruling("inconclusive", full_rule, statistic, threshold, n, values,
                        f"the sweep splits: {counts['supports']} of {n} settings support, {counts['refutes']} refute")


def c5_ruling(runs: PairedRuns) -> rules.Ruling:
    threshold = "supports: lower 95% bound of mean d > 0 and mean d ≥ margin; refutes: upper bound < margin"
    return _void_if_untrained({"": runs}, C5_RULE, GAP, threshold) or _with_note(
        rules.paired_superiority(paired_gaps(runs), MARGIN, C5_RULE, GAP), _stuck_note({"": runs}))


def c5_widening_ruling(deep: PairedRuns, shallow: PairedRuns) -> rules.Ruling:
    threshold = "supports: lower 95% Welch bound > 0 and difference ≥ margin; refutes: upper bound < margin"
    statistic = "mean d at the deepest net − mean d at the shallowest"
    cells = {"deep": deep, "shallow": shallow}
    return _void_if_untrained(cells, C5_WIDENING_RULE, statistic, threshold) or _with_note(
        rules.difference_superiority(paired_gaps(deep), paired_gaps(shallow), MARGIN, C5_WIDENING_RULE, statistic),
        _stuck_note(cells))


def seed_spread(runs: PairedRuns) -> float:
    """The seed-to-seed spread of a cell: the pooled standard deviation across seeds of ln AUC within each activation.

    What reseeding alone moves the statistic by, the yardstick of "indistinguishable".
    """
    logs = [np.log([area_under_loss(r) for r in runs[activation]]) for activation in ("relu", "gelu")]
    if min(len(x) for x in logs) < 2:
        raise ValueError("runs must hold at least two seeds per activation to measure a seed-to-seed spread")
    spread = float(np.sqrt(np.mean([np.var(x, ddof=1) for x in logs])))
    if not math.isfinite(spread):
        raise ValueError("runs hold a non-finite loss area: a broken run, not a seed-to-seed spread")
    return spread


def indistinguishable_ruling(gaps, spread: float, rule: str, statistic: str) -> rules.Ruling:
    """The paper's "indistinguishable" (``rules.PAPER_WORDS``): the 90% interval of the mean paired gap lies
    within ± ``spread``, the seed-to-seed spread of the same statistic (``seed_spread``)."""
    ruling = rules.by_words("indistinguishable").decide(gaps, spread, rule, statistic)
    return dataclasses.replace(ruling, values=dict(ruling.values, **{"seed spread": spread}))


def c6_ruling(runs: PairedRuns) -> rules.Ruling:
    threshold = "supports: 90% interval of mean d inside ± the seed-to-seed spread; refutes: wholly outside"
    void = _void_if_untrained({"": runs}, C6_RULE, GAP, threshold)
    if void:
        return void
    return _with_note(indistinguishable_ruling(paired_gaps(runs), seed_spread(runs), C6_RULE, GAP),
                      _stuck_note({"": runs}))


# --------------------------------------------------------------------------- L18-L20: the penalty alone
def band_width(optimiser: str, lr: float, lambda1: float) -> float | None:
    """Width of the 2-cycle a penalty-dominated weight settles in (None where no closed form is derived)."""
    if optimiser == "sgd":
        return closed_forms.step_length(lr, lambda1)  # v2 Prop. B.2
    if optimiser == "rmsprop":  # torch defaults: alpha = 0.99, eps = 1e-8; v2 Prop. B.5
        return float(closed_forms.rmsprop_step_torch(lr, 0.99, 1e-8, lambda1, 10**9))
    return None


@dataclass(frozen=True)
class Prediction:
    """What the LASSO analysis predicts for one run if the penalty alone acted."""
    share: float               # share of sampled weights below 1e-5 at the run's last step
    curve: tuple[float, ...]   # share below each of THRESHOLDS at the run's last step (Table 2 as a curve)
    l1: float                  # L1 norm scaled to all parameters
    band: float | None         # width of the final 2-cycle
    horizon: int               # steps for 99% of sampled weights to reach 0; steps + 1 when not within the run
    run_steps: int

    @property
    def band_limit(self) -> float | None:
        return None if self.band is None else min(1.0, train.PAPER_THRESHOLD / self.band)

    @property
    def reached(self) -> bool:
        return self.horizon <= self.run_steps


# Thresholds t of the threshold curve (share of weights with |w| < t): eight decades, four points each, so
# that the weight threshold train.PAPER_THRESHOLD is one of them.
THRESHOLDS = train.SHARE_THRESHOLDS  # the thresholds each run records its final shares at

_PREDICTED: dict[str, Prediction] = {}  # several tests read the same run's prediction


def predict(result: train.TrainResult) -> Prediction:
    """The penalty-only prediction for a run (memoised per run key)."""
    key = result.key
    if key in _PREDICTED:
        return _PREDICTED[key]
    config = result.config
    previous = config.optimiser_state_from
    before = None
    if previous is not None:
        per_epoch = result.steps // config.epochs
        before = (previous.lambda1, previous.epochs * per_epoch)
    final, arrival = closed_forms.penalty_only_run(result.initial_weight_sample, config.optimiser, config.lr,
                                                   config.lambda1, result.steps, before)
    prediction = Prediction(
        share=float((final.abs() < train.PAPER_THRESHOLD).float().mean()),
        curve=tuple(float((final.abs() < t).float().mean()) for t in THRESHOLDS),
        l1=float(final.abs().double().mean()) * result.parameters,
        band=band_width(config.optimiser, config.lr, config.lambda1),
        horizon=int(np.quantile(arrival.numpy(), HORIZON_QUANTILE, method="higher")),
        run_steps=result.steps)
    if key is not None:
        _PREDICTED[key] = prediction
    return prediction


def sgd_penalty_l1(result: train.TrainResult, steps: int) -> float:
    """Penalty-only L1 norm of an SGD run after ``steps`` (closed form, v2 Prop. B.1-B.2), scaled to all parameters."""
    sample = result.initial_weight_sample.double().numpy()
    iterate = closed_forms.ndgm_iterate(sample, result.config.lr, result.config.lambda1, steps)
    return float(np.abs(iterate).mean()) * result.parameters


def sgd_crossing_step(small: train.TrainResult, large: train.TrainResult, limit: int = 10**7) -> int:
    """First step at which the penalty-only L1 norm of the small-λ1 SGD run falls below the large one's.

    The closed form's answer to "how long until a larger λ1 ends with the larger
    L1 norm" (``scales.sgd_crossing_step`` on the runs' shared initial weights);
    ``limit`` when it never does within ``limit``.
    """
    return scales.sgd_crossing_step(small.initial_weight_sample.double().numpy(), small.config.lr,
                                    small.config.lambda1, large.config.lambda1, limit)


def settle_window(result: train.TrainResult) -> int:
    """Epochs at the end of the run over which it must have settled: at least ``SETTLE_EPOCHS``, and at least
    ``scales.SETTLE_FRACTION`` of its horizon (``scales.settle_epochs``)."""
    per_epoch = result.steps // result.config.epochs
    return scales.settle_epochs(min(predict(result).horizon, result.steps), per_epoch)


def settled_l1(result: train.TrainResult) -> float:
    """The run's L1 norm averaged over its settling window (``settle_window``; one epoch's step can be lucky)."""
    last = result.epoch_l1[-settle_window(result):]
    return sum(last) / len(last)


def settled_share(result: train.TrainResult) -> float:
    """The run's share of |w| < 1e-5 averaged over its settling window (``settle_window``)."""
    last = result.epoch_share[-settle_window(result):]
    return sum(last) / len(last)


def window(result: train.TrainResult, curve: str) -> tuple[float, float]:
    """The least and the largest value of the run's per-epoch ``curve`` ("epoch_l1", "epoch_share") over its
    settling window (``settle_window``)."""
    last = getattr(result, curve)[-settle_window(result):]
    return min(last), max(last)


#: A ruling's values carry this key when running the runs on may settle what they could not (``settled``).
UNSETTLED = "unsettled"
#: ...and this one names the runs to run on (``_run_label``, joined by ``MOVING_SEPARATOR``).
MOVING = "runs to run on"
MOVING_SEPARATOR = "; "
#: One run per λ1 or optimiser: a statistic within 10% of a decision edge (either side) decides nothing.
NOISE_BAND = L1_ORDER_BAND


def _side(value: float, edge: float) -> str:
    """"above" or "below" ``edge`` by more than the noise band (a factor of 1.1), else "band"."""
    if value >= edge * NOISE_BAND:
        return "above"
    return "below" if value <= edge / NOISE_BAND else "band"


#: The side of a statistic that reaches both sides of its edge within the settling windows: not settled.
CROSSING = "crossing"


def _sides(low: float, high: float, edge: float) -> str:
    """Where a statistic lies over the settling windows, from its least and largest value there: one ``_side``
    throughout; "band" when it reaches the noise band from one side (within noise of the edge: running on cannot
    settle noise); ``CROSSING`` when it reaches both sides."""
    sides = {_side(low, edge), _side(high, edge)}
    if sides == {"above", "below"}:
        return CROSSING
    return "band" if "band" in sides else sides.pop()


#: A reading of one rule: for each test the rule makes, where its statistic lies over the runs' settling windows
#: (``_sides``); the window-averaged values it decides by; and, per test, the window-averaged statistic, its edge
#: and whether it is a "ratio" or in percentage "points" (``_moved`` compares them when the runs double).
Reading = tuple[dict[str, str], dict[str, float], dict[str, tuple[float, float, str]]]


def _distance(position: float, edge: float, kind: str) -> float:
    # how far a statistic lies from its edge: |ln(position / edge)| for a ratio, |position − edge| in points
    return abs(math.log(position / edge)) if kind == "ratio" else abs(position - edge)


def _l1_order_reading(runs: list[train.TrainResult]) -> Reading:
    # r = L1(larger λ1) / L1(smaller λ1) against 1 (the order), from any epoch of each window
    small, large = sorted(runs, key=lambda r: r.config.lambda1)
    (small_low, small_high), (large_low, large_high) = window(small, "epoch_l1"), window(large, "epoch_l1")
    r = settled_l1(large) / settled_l1(small)
    return {"r": _sides(large_low / small_high, large_high / small_low, 1.0)}, {"r": r}, {"r": (r, 1.0, "ratio")}


def _optimisers_differ_reading(runs: list[train.TrainResult]) -> Reading:
    # largest / smallest L1 norm against 2 ("differ substantially"), from any epoch of the windows
    windows = [window(r, "epoch_l1") for r in runs]
    low = max(1.0, max(w[0] for w in windows) / min(w[1] for w in windows))
    high = max(w[1] for w in windows) / min(w[0] for w in windows)
    finals = [settled_l1(r) for r in runs]
    ratio = max(finals) / min(finals)
    return {"ratio": _sides(low, high, rules.SUBSTANTIAL_FACTOR)}, {"ratio": ratio}, \
        {"ratio": (ratio, rules.SUBSTANTIAL_FACTOR, "ratio")}


def _share_reading(paper_small: float, paper_large: float) -> Callable[[list[train.TrainResult]], Reading]:
    # the difference (percentage points, signed as the paper's) against half the paper's, and each share against 5%
    paper_difference = paper_small - paper_large
    sign = 1.0 if paper_difference > 0 else -1.0

    def reading(runs: list[train.TrainResult]) -> Reading:
        small, large = sorted(runs, key=lambda r: r.config.lambda1)
        (s_low, s_high), (l_low, l_high) = (tuple(100 * x for x in window(r, "epoch_share")) for r in (small, large))
        ends = sorted((sign * (s_low - l_high), sign * (s_high - l_low)))
        half = abs(paper_difference) / 2
        states = {"difference": _sides(*ends, half), "small λ1 share": _sides(s_low, s_high, 100 * SHARE_SIDE),
                  "large λ1 share": _sides(l_low, l_high, 100 * SHARE_SIDE)}
        measured = (100 * settled_share(small), 100 * settled_share(large))
        edges = {"difference": (sign * (measured[0] - measured[1]), half, "points"),
                 "small λ1 share": (measured[0], 100 * SHARE_SIDE, "points"),
                 "large λ1 share": (measured[1], 100 * SHARE_SIDE, "points")}
        return states, {"small λ1 %": measured[0], "large λ1 %": measured[1],
                        "difference": measured[0] - measured[1]}, edges
    return reading


def _premise_problems(results: list[train.TrainResult], crossing: int | None) -> list[str]:
    """Why runs cannot speak to the analysis, run by run ([] when they can).

    (premise) RMSProp or Adam at a batch other than the paper's 512, since their
    step divides by the root of a second moment that holds the minibatch noise;
    an App. C successor whose λ1 = 2 run ended before its second moment settled
    (``scales.saturation_steps``), so that it starts from another state than
    App. C's 200-epoch run hands on;
    (horizon) fewer than 99% of its sampled weights at 0 under the penalty alone,
    or, given ``crossing``, short of the closed-form crossing of the two L1 norms,
    or a settling window (``settle_window``) that starts before the horizon.
    """
    problems = []
    for result in results:
        config = result.config
        name = _run_label(result)  # each problem below states the steps it is about
        if config.optimiser != "sgd" and config.batch_size != PAPER_BATCH:
            problems.append(f"{name}: batch {config.batch_size}, not the paper's {PAPER_BATCH} (RMSProp's and "
                            "Adam's steps divide by the root of a second moment that holds the minibatch noise)")
            continue
        source = config.optimiser_state_from
        per_epoch = result.steps // config.epochs
        if source is not None and source.epochs * per_epoch < scales.saturation_steps(source.optimiser):
            problems.append(f"{name}: starts from a λ1 = {source.lambda1:g} run of {source.epochs * per_epoch} "
                            f"steps, before its second moment settled ({scales.saturation_steps(source.optimiser)} "
                            f"steps, {scales.SATURATION_TIME_CONSTANTS} time constants): not the state App. C's "
                            "200-epoch run hands on")
            continue
        prediction = predict(result)
        if not prediction.reached:
            problems.append(f"{name}: {result.steps} steps, short of the horizon (99% of weights at 0 under the "
                            f"penalty alone: {'> ' + str(result.steps) if prediction.horizon > result.steps else prediction.horizon})")
            continue
        window_epochs = settle_window(result)
        if len(result.epoch_l1) < window_epochs:
            problems.append(f"{name}: {len(result.epoch_l1)} epochs, fewer than the {window_epochs} over which the "
                            "run must settle")
        elif _window_start(result) < prediction.horizon:
            problems.append(f"{name}: its {window_epochs}-epoch settling window starts at step "
                            f"{_window_start(result)}, before the horizon at step {prediction.horizon}")
    small = min(results, key=lambda r: r.config.lambda1)
    if crossing is not None and small.steps < crossing:
        problems.append(f"{_run_name(small)}: short of the closed-form crossing of the two L1 norms at step "
                        f"{crossing}")
    return problems


def _window_start(result: train.TrainResult) -> int:
    # the step at which the run's settling window starts
    return (result.config.epochs - settle_window(result)) * (result.steps // result.config.epochs)


#: Keys of an L18-L20 ruling's values that its rule-4 certificates read (``record_l1_decision``).
AFTER_HORIZON = "runs whose settling window starts after their horizon"
RUNS = "runs"
STATIONARY = "stationary when the runs double"


#: The statistic of each L18-L20 reading, as its ruling's values key it: (key, how a finding names it, unit after it).
_FINDINGS = (("r", "L1 norm ratio r = ", ""), ("ratio", "largest / smallest L1 norm ", ""),
             ("small λ1 %", "", " of weights below 1e-5"))


def l1_finding(values: dict, paper: str) -> str:
    """An L18-L20 cell's finding in the paper's terms: the measured statistic of its ruling's ``values`` beside
    ``paper``, the paper's number or words for it ("" when the runs could not speak)."""
    if not isinstance(paper, str) or not paper.strip():
        raise ValueError(f"paper must name the paper's number or words for the statistic, got {paper!r}")
    found = next(((key, name, unit) for key, name, unit in _FINDINGS if key in values), None)
    if found is None:
        return ""
    key, name, unit = found

    def reading(at: str) -> str:  # at: "" for the run, " at half length" for its first half
        if key == "small λ1 %":
            return f"{values['small λ1 %' + at]:.2f}% vs {values['large λ1 %' + at]:.2f}%"
        return f"{values[key + at]:.3g}"

    half = f"{reading(' at half length')} at half the length; " if f"{key} at half length" in values else ""
    return f"{name}{reading('')}{unit} ({half}paper: {paper})"


def record_l1_decision(evidence, cell: str, ruling: rules.Ruling, paper: str) -> None:
    """An L18-L20 decision with the two rule-4 certificates its rule read (a limit claim counts a cell, either
    way, only when they hold): the horizon, passed before every settling window starts, and stationarity; and its
    finding beside ``paper``, the paper's number or words (``l1_finding``), and, where a rule of several parts
    spoke, the part that decided it (``share_pattern_ruling``)."""
    values = ruling.values
    if AFTER_HORIZON in values:
        evidence.certificate("horizon", values[AFTER_HORIZON], values[RUNS], values[AFTER_HORIZON] == values[RUNS],
                             "runs whose settling window starts after 99% of their sampled weights reach 0 under "
                             "the penalty alone, of all the runs", cell=cell)
        evidence.certificate("stationarity", values[STATIONARY], "yes", values[STATIONARY] == "yes",
                             "the decided statistic does not reach both sides of an edge over the settling windows, "
                             "and reads the same at half the run lengths", cell=cell)
    finding = l1_finding(values, paper)
    if ruling.decision != "inconclusive" and ruling.reason:  # which part of a several-part rule decided it
        finding = f"{finding} — {ruling.reason}"  # not "; ": the card's sentence separates its cells by that
    evidence.decision(cell, ruling, finding=finding)


FRESH_READING = ("Fig. 3 and Table 2 came from App. C's code, which reuses one optimiser per kind across the λ1 "
                 "loop; a fresh optimiser per run is a reading of the §4 text's 'parallel trials', not of the figure, "
                 "so it is shown and does not count")


def record_l1_reading(evidence, cell: str, ruling: rules.Ruling, paper: str) -> None:
    """A second reading of an L19-L20 cell with a fresh optimiser per run: what the rule says, shown on the card as
    a note, never counted (``FRESH_READING``); the runs are read as they are, not run on."""
    finding = l1_finding(ruling.values, paper)
    evidence.note(f"{cell}, second reading with {PROCEDURES['fresh']}: {ruling.decision}, "
                  f"{finding or ruling.reason}. {FRESH_READING}.")


def _first_halves(results: list[train.TrainResult]) -> list[train.TrainResult] | None:
    # each run stopped after half its epochs: the length one doubling before (None when a run has one epoch)
    if any(r.config.epochs < 2 for r in results):
        return None
    return [first_epochs(r, r.config.epochs // 2) for r in results]


def _run_label(result: train.TrainResult) -> str:
    return f"{optimisers.DISPLAY_NAMES[result.config.optimiser]} λ1={result.config.lambda1:g}"


def _run_name(result: train.TrainResult) -> str:
    return f"{_run_label(result)} ({result.steps} steps)"


def _moved(states: dict, edges: dict, earlier_states: dict, earlier_edges: dict) -> list[str]:
    """The tests whose reading one doubling earlier differs: another side of the edge; on one side, farther from
    the edge by more than the noise band (moving toward it); inside the band, a value that moved by more than half
    the band, either way (a trend inside the band is motion, not noise)."""
    moved = []
    for name, (position, edge, kind) in edges.items():
        earlier = earlier_edges[name][0]
        if earlier_states[name] != states[name]:
            moved.append(name)
        elif states[name] == "band":  # half the band: ln(1.1)/2 for a ratio, 5% of the edge in points
            change = abs(math.log(position / earlier)) if kind == "ratio" else abs(position - earlier) / edge
            if change > (math.log(NOISE_BAND) if kind == "ratio" else NOISE_BAND - 1) / 2:
                moved.append(name)
        elif _distance(position, edge, kind) < _distance(earlier, edge, kind) / NOISE_BAND:
            moved.append(name)
    return moved


def _flattened(result: train.TrainResult) -> train.TrainResult:
    # the run with its settling window held at its average: no motion within the window. It keeps the run's key,
    # so predict's memo serves its prediction, which reads neither curve (first_epochs changes the steps, and so
    # its key)
    width = settle_window(result)
    curves = {}
    for curve in ("epoch_l1", "epoch_share"):
        values = getattr(result, curve)
        curves[curve] = values[:-width] + (sum(values[-width:]) / width,) * width
    return dataclasses.replace(result, **curves)


def _movers(results: list[train.TrainResult], states: dict, edges: dict, read, crossing: int | None,
            halves: list[train.TrainResult] | None) -> list[train.TrainResult]:
    """The runs to run on: those whose own motion moved the statistic. Without ``halves`` (it crosses an edge within
    the settling windows), a run whose window held still removes a crossing; with them, a run that alone at its
    first half, the others as they are, leaves the runs unable to speak or the reading otherwise (``_moved``).
    Every run when none does alone."""
    movers = []
    for index, result in enumerate(results):
        if halves is None:
            mixed = [*results[:index], _flattened(result), *results[index + 1:]]
            if len(_moving(read(mixed)[0])) < len(_moving(states)):
                movers.append(result)
            continue
        mixed = [*results[:index], halves[index], *results[index + 1:]]
        if _premise_problems(mixed, crossing):
            movers.append(result)
            continue
        mixed_states, _, mixed_edges = read(mixed)
        if _moving(mixed_states) or _moved(states, edges, mixed_states, mixed_edges):
            movers.append(result)
    return movers or results


def _moving(states: dict[str, str]) -> str:
    return "; ".join(f"{name} reaches above and below its edge" for name, side in states.items() if side == CROSSING)


def _l1_decision(results: list[train.TrainResult], rule: str, statistic: str, threshold: str, read,
                 decide: Callable[[dict[str, str], dict[str, float]], tuple[str, str]],
                 crossing: int | None = None) -> rules.Ruling:
    """The one way an L18-L20 rule decides: premises, then the rulebook's stationarity certificate.

    The runs must speak (``_premise_problems``); the statistic ``read`` measures must
    not reach both sides of a decision edge over the epochs of the runs' settling
    windows; and it must read the same at the runs' first halves, one doubling
    earlier, without moving toward any edge by more than the noise band on the
    way (rule 4: the statistic stops moving when the horizon doubles). Then
    ``decide`` maps the sides and values to supports, refutes or inconclusive (a
    statistic that reaches the noise band at some epoch of the windows), and says
    which part decided where the rule has several. A pair that fails the
    certificate is marked ``UNSETTLED``: running it on may settle it (``settled``).
    """
    after = [predict(r).reached and predict(r).horizon <= _window_start(r) for r in results]
    certificates = {AFTER_HORIZON: sum(after), RUNS: len(results), STATIONARY: "not read"}

    def void(reason: str, movers: list[train.TrainResult] | None = None, values: dict | None = None) -> rules.Ruling:
        marks = {} if movers is None else {UNSETTLED: "not certified", STATIONARY: "no",
                                           MOVING: MOVING_SEPARATOR.join(_run_label(r) for r in movers)}
        return rules.Ruling("inconclusive", rule, statistic, threshold, len(results),
                            {**certificates, **(values or {}), **marks}, "the runs cannot speak to the analysis: "
                            + reason)

    problems = _premise_problems(results, crossing)
    if problems:
        return void("; ".join(problems))
    states, values, edges = read(results)
    steps = {f"steps, {_run_label(r)}": r.steps for r in results}
    if _moving(states):
        return void(f"not settled over the settling windows ({_moving(states)})",
                    _movers(results, states, edges, read, crossing, None), values)
    halves = _first_halves(results)
    half_problems = ["a run of one epoch"] if halves is None else _premise_problems(halves, crossing)
    if half_problems:
        movers = results if halves is None else _movers(results, states, edges, read, crossing, halves)
        return void("no stationarity certificate: at half these lengths the runs cannot speak ("
                    + "; ".join(half_problems) + "), so the runs must run on to twice their length", movers, values)
    half_states, half_values, half_edges = read(halves)
    moved = _moved(states, edges, half_states, half_edges)
    if _moving(half_states) or moved:
        toward = "".join(f"; {how}: {', '.join(names)}" for how, names in (
            ("moving toward its edge", [n for n in moved if half_states[n] == states[n] != "band"]),
            ("moving inside the noise band", [n for n in moved if half_states[n] == states[n] == "band"])) if names)
        return void("no stationarity certificate: the statistic moved between half these lengths and these "
                    f"({', '.join(f'{k} {half_values[k]:.4g} → {values[k]:.4g}' for k in values)}{toward})",
                    _movers(results, states, edges, read, crossing, halves), values)
    decision, why = decide(states, values)
    values = {**certificates, STATIONARY: "yes", **values, **{f"{k} at half length": v for k, v in half_values.items()},
              **steps}
    if decision == "inconclusive":
        near = ", ".join(name for name, side in states.items() if side == "band")
        return rules.Ruling("inconclusive", rule, statistic, threshold, len(results), values,
                            f"{near} within the 10% noise band of its decision edge at some epoch of the settling "
                            "windows (one run per setting)")
    return rules.Ruling(decision, rule, statistic, threshold, len(results), values, why)


SPEAK = (f"inconclusive unless every run uses the paper's batch (RMSProp, Adam), passed the horizon (99% of sampled "
         f"weights at 0 under the penalty alone) and is certified (the statistic, from any epoch of each run's "
         f"settling window after the horizon (the last {SETTLE_EPOCHS} epochs, or a fifth of the horizon if "
         f"longer), does not reach both sides of an edge, and reads the same at half the run lengths, without moving "
         f"toward an edge by more than the 10% noise band; a statistic that reaches that band is inconclusive; "
         f"where it is not, the runs whose own doubling moved it run on, twice as long, up to the cap)")
L1_ORDER_RULE = (f"L1-norm order: r = L1 norm at the larger λ1 / at the smaller, each averaged over its "
                 f"settling window; supports at r ≥ 1.1, refutes at r ≤ 1/1.1; {SPEAK}; for SGD also past the "
                 f"closed-form crossing step")


#: What a one-edge statistic decides from its side of the edge ("band" and crossings decide nothing).
_SPEAKING_SIDES = {"above": "supports", "below": "refutes"}


def l1_order_ruling(small: train.TrainResult, large: train.TrainResult) -> rules.Ruling:
    """Does the larger λ1 end with the larger L1 norm (the paradox of v1 §3, v2 §4)?"""
    threshold = f"supports: r ≥ {L1_ORDER_BAND}; refutes: r ≤ 1/{L1_ORDER_BAND}; inconclusive between"
    statistic = "r = L1(larger λ1) / L1(smaller λ1), each averaged over its settling window"
    crossing = sgd_crossing_step(small, large) if small.config.optimiser == "sgd" else None
    return _l1_decision([small, large], L1_ORDER_RULE, statistic, threshold, _l1_order_reading,
                        lambda sides, _: (_SPEAKING_SIDES.get(sides["r"], "inconclusive"), ""), crossing)


OPTIMISERS_DIFFER_RULE = (f"L19a: L1 norms (settling window averaged) differ substantially across SGD, RMSProp "
                          f"and Adam at one λ1 (the paper's words: at least double, rules.PAPER_WORDS); {SPEAK}")


def optimisers_differ_ruling(results: list[train.TrainResult]) -> rules.Ruling:
    factor = rules.SUBSTANTIAL_FACTOR
    threshold = f"supports: largest / smallest ≥ {factor:g} × 1.1; refutes: ≤ {factor:g} / 1.1; inconclusive between"
    statistic = "largest / smallest L1 norm across the three optimisers"
    return _l1_decision(results, OPTIMISERS_DIFFER_RULE, statistic, threshold, _optimisers_differ_reading,
                        lambda sides, _: (_SPEAKING_SIDES.get(sides["ratio"], "inconclusive"), ""))


SHARE_RULE = ("share pattern: a row of shares |w| < 1e-5 (small λ1, large λ1; settling window averaged) agrees "
              "with the paper when the difference has the paper's sign and at least half its size and each share "
              "lies on the paper's side of 5% (each edge with a 10% noise band; 5% is the suite's edge between few "
              "and most weights prunable: every share of Table 2 and v1 §3 is below 3.4% or above 99%, clear of "
              f"it and its band); {SPEAK}")


def share_pattern_ruling(small: train.TrainResult, large: train.TrainResult, paper_small: float,
                         paper_large: float) -> rules.Ruling:
    """Does the measured row of shares (fractions) agree with the paper's (percent)?"""
    paper_difference = paper_small - paper_large
    edge = f"{'≥' if paper_difference > 0 else '≤'} {paper_difference / 2:+.4g}"  # half the paper's, with its sign
    threshold = (f"supports: difference {edge} points (half the paper's {paper_difference:+.4g}, with its sign; no "
                 "upper bound on its size), and both shares on the paper's side of 5%; refutes when any of these "
                 "fails; inconclusive when any lies within 10% of its edge")
    statistic = "share(small λ1) − share(large λ1), percentage points"
    paper_sides = {"difference": "above",
                   "small λ1 share": "below" if paper_small < 100 * SHARE_SIDE else "above",
                   "large λ1 share": "below" if paper_large < 100 * SHARE_SIDE else "above"}
    names = {"difference": "the difference", "small λ1 share": f"the λ1 = {small.config.lambda1:g} share",
             "large λ1 share": f"the λ1 = {large.config.lambda1:g} share"}

    def part(name: str, values: dict[str, float]) -> str:  # a failing part of the row, ours beside the paper's
        if name == "difference":
            ours, paper = values["difference"], paper_small - paper_large
            how = ("has the opposite sign to" if ours * paper <= 0 else
                   f"falls short of the edge {paper / 2:+.4g}, half")
            return f"the difference: {ours:+.4g} points {how} the paper's {paper:+.4g}"
        ours, paper = ((values["small λ1 %"], paper_small) if name == "small λ1 share"
                       else (values["large λ1 %"], paper_large))
        side = "above" if ours > 100 * SHARE_SIDE else "below"
        other = "below" if side == "above" else "above"
        return f"{names[name]}: {ours:.2f}% is {side} the suite's 5% edge, the paper's {paper:g}% {other} it"

    def decide(sides: dict[str, str], values: dict[str, float]) -> tuple[str, str]:
        if "band" in sides.values():
            return "inconclusive", ""
        failing = [name for name, side in paper_sides.items() if sides[name] != side]
        if not failing:
            return "supports", ""
        agreeing = [names[name] for name in paper_sides if name not in failing]
        count = {1: "one part", 2: "two parts", 3: "all three parts"}[len(failing)]
        # "agree" in the rule's sense: each share on the paper's side of 5%, the difference past half the paper's
        agree = f", while {' and '.join(agreeing)} {'agrees' if len(agreeing) == 1 else 'agree'} by the rule" \
            if agreeing else ""
        return "refutes", f"fails on {count}, " + ", and ".join(part(name, values) for name in failing) + agree

    return _l1_decision([small, large], SHARE_RULE, statistic, threshold, _share_reading(paper_small, paper_large),
                        decide)


# --------------------------------------------------------------------------- the runs the claim tests ask for
# and what their cards record (claims/test_deep_convergence.py, claims/test_deep_l1.py); gdcut.program lists
# the same runs as training jobs, so the claim tests find them in the cache.
def convergence_runs(settings: scales.RunSettings, data, depth: str, batch_norm: bool,
                     setting: tuple[str, float] | None = None) -> PairedRuns:
    """C5/C6: the ReLU and GELU runs of every seed at one depth and (optimiser, lr) ``setting`` (None: the scale's
    first), trained once, then read from the cache."""
    runs = {"relu": [], "gelu": []}
    for seed in scales.convergence(settings.scale).seeds:
        for activation in runs:
            config = scales.convergence_config(settings.scale, depth, activation, batch_norm, seed,
                                               forward_dtype=settings.forward_dtype, setting=setting)
            runs[activation].append(train.train(config, data, settings.cache_dir, progress=settings.scale == "paper"))
    return runs


def convergence_sweep(settings: scales.RunSettings, data, depth: str, batch_norm: bool) -> SweepRuns:
    """C5/C6: ``convergence_runs`` for every (optimiser, lr) setting of the scale's sweep."""
    return {setting: convergence_runs(settings, data, depth, batch_norm, setting)
            for setting in scales.convergence(settings.scale).settings}


def skip_unless_at_scale(preset: scales.ConvergenceScale, depth: str) -> None:
    """Skip a C5/C6 cell whose depth this scale leaves out (VGG13 runs only at the paper scale)."""
    import pytest

    if depth not in preset.depths:
        pytest.skip(f"{depth} runs only at the paper scale (this run: depths {list(preset.depths)})")


def record_convergence_cell(evidence, settings: scales.RunSettings, data, preset: scales.ConvergenceScale,
                            label: str, sweep: SweepRuns) -> None:
    """What every C5/C6 card shows for a cell: the conditions, the swept settings and the per-seed table."""
    first = next(iter(sweep.values()))["relu"][0]
    evidence.condition(f"scale {settings.scale}, device {settings.device}, data {data.source}")
    evidence.condition(f"initialisation: {first.initialisation} (not stated in the paper; speed differences "
                       "between smooth and ReLU nets depend on it and are reported to vanish at critical "
                       "initialisation)")
    evidence.condition(train.precision_summary(first))
    config = first.config
    evidence.parameter("optimiser and lr (swept)", ", ".join(setting_name(s) for s in sweep),
                       note="not stated in the paper; " + ("; ".join(unswept(sweep)) or "swept by SWEEP_RULE"))
    evidence.parameter("epochs × batch", f"{config.epochs} × {config.batch_size} on {len(data.train_labels)} "
                       f"images ({first.steps} steps)", note="not stated in the paper; chosen")
    evidence.parameter("seeds", len(preset.seeds), note="paired ReLU/GELU per seed and setting (rule: at least 5)")
    evidence.note("The suite's choices, not the paper's: a net counts as trained when its final loss is below "
                  f"0.75 ln 10 = {TRAINED:.3f} (chance is ln 10); C5's margin of practical size is 2% of the loss "
                  "area; C6's is the seed-to-seed spread.")
    if label.startswith(preset.depths[0]):  # the scale notes once per claim
        for topic, why in preset.why.items():
            evidence.note(f"{settings.scale} scale, {topic}: {why}")
    rows = []
    for setting, runs in sweep.items():
        gaps = paired_gaps(runs)
        rows += [[setting_name(setting), seed, round(area_under_loss(r), 4), round(area_under_loss(g), 4),
                  round(d, 4), round(r.epoch_loss[-1], 3), round(g.epoch_loss[-1], 3)]
                 for seed, r, g, d in zip(preset.seeds, runs["relu"], runs["gelu"], gaps)]
    evidence.table(f"{label}: per setting and seed", ["setting", "seed", "AUC ReLU", "AUC GELU", "d",
                                                      "final loss ReLU", "final loss GELU"], rows)


#: How a card names the data set a run trained on (``TrainResult.data`` begins with ``gdcut.data``'s name of it).
DATA_SET_LABELS = {"cifar10": "CIFAR-10", "fashion-mnist": "Fashion-MNIST"}


def data_sets(*sweeps: SweepRuns) -> list[str]:
    """The data sets the runs of ``sweeps`` trained on, as the cards name them: what C5/C6 swept of the data set the
    paper leaves open (rule 5), read from the runs themselves."""
    names = [r.data.split(":", 1)[0] for sweep in sweeps for runs in sweep.values() for rs in runs.values() for r in rs]
    return list(dict.fromkeys(DATA_SET_LABELS.get(name, name) for name in names))


def record_sweep_decision(evidence, condition: str, per_setting: dict, rule: str, swept_data: list[str]) -> None:
    """The decision across the sweep, with a table of what each setting's rule found beside it; ``swept_data`` is
    what the runs trained on (``data_sets``), which the rulebook checks against the data set the paper leaves
    open."""
    read = list(dict.fromkeys(k.removeprefix(LENGTH_DECISION) for r in per_setting.values() for k in r.values
                              if k.startswith(LENGTH_DECISION)))
    rows = [[setting_name(setting), r.decision, *(round(r.values[k], 4) if k in r.values else "—"
                                                    for k in ("mean", "lower bound", "upper bound", "margin")),
             *(r.values.get(LENGTH_DECISION + label, "—") for label in read), r.reason or ""]
            for setting, r in per_setting.items()]
    evidence.table(f"{condition}: each setting's rule (mean d and its bounds at the scale's run length)",
                   ["setting", "decision", "mean d", "lower", "upper", "margin",
                    *(f"decision, {label}" for label in read), "reason"], rows)
    cell = f"{condition}, across the sweep"
    # The rulebook (rule 5) checks the same sweep that SWEEP_RULE reads, against claims.toml's declaration.
    evidence.swept("optimiser and learning rate", [setting_name(setting) for setting in per_setting], cell=cell)
    evidence.swept("training length", read, cell=cell)
    evidence.swept("data set", swept_data, cell=cell)
    evidence.decision(cell, sweep_ruling(per_setting, rule, GAP))
    for setting, r in per_setting.items():
        if r.decision in ("supports", "refutes") and r.values.get(rules.CLEARANCE, math.inf) < NARROW_CLEARANCE:
            evidence.caveat(_narrow_note(f"{condition}, {setting_name(setting)}", r))


#: A setting's decision whose bounds lie past their edge by less than this share of the margin: the 10% the L1 rules
#: read as noise (``NOISE_BAND``, a factor 1.1). The card says so; the decision stands, fixed before the run.
NARROW_CLEARANCE = 0.1


def _narrow_note(where: str, ruling: rules.Ruling) -> str:
    """The caveat of a setting that decides by less than ``NARROW_CLEARANCE`` of its margin, in numbers."""
    margin, clearance = ruling.values[NARROWEST_MARGIN], ruling.values[rules.CLEARANCE]
    length = ruling.values[NARROWEST_LENGTH]
    at = "" if length == NATURAL_LENGTH else f" at {length}"
    return (f"{where}: {ruling.decision} by a narrow {clearance * margin:.2g} past its edge{at}, {clearance:.0%} of "
            f"the margin {margin:.3g} there; a decision this close can move with another machine's floating-point "
            "rounding, and with it the count of settings that decide the sweep")


#: v2's two procedures for the λ1 pair (scales.V2_PROCEDURES), as the cards name them.
PROCEDURES = {"app-c": "App. C's procedure (one optimiser per kind, reused across the λ1 loop)",
              "fresh": "fresh optimiser state per run"}


def l1_run(settings: scales.RunSettings, data, version: str, optimiser: str, lambda1: float,
           procedure: str = "fresh") -> train.TrainResult:
    """L18-L20: one VGG16 run of ``scales.l1_config`` (trained once, then read from the cache)."""
    config = scales.l1_config(settings.scale, version, optimiser, lambda1, procedure=procedure,
                              forward_dtype=settings.forward_dtype)
    paper_scale = settings.scale == "paper"
    # a full VGG16 checkpoint with Adam state is ~1.6 GB: every 10 epochs at the paper scale
    return train.train(config, data, settings.cache_dir, progress=paper_scale,
                       checkpoint_every=10 if paper_scale else 1, keep_optimiser_state=scales.hands_on(config),
                       keep_final_state=scales.may_run_on(settings.scale))


def _doubled(config: train.TrainConfig) -> train.TrainConfig:
    return dataclasses.replace(config, epochs=2 * config.epochs)


def _why_not_double(settings: scales.RunSettings, result: train.TrainResult) -> str:
    # "" for a run that may run on (scales.may_run_on) and stays within the scale's cap at twice its length;
    # else why not, in words
    if not scales.may_run_on(settings.scale):
        return f"the {settings.scale} scale's runs do not run on (its run lengths are fixed)"
    cap = scales.run_step_cap(scales.l1(settings.scale), result.config)
    if 2 * result.steps > cap:
        return (f"{_run_label(result)} at twice its {result.steps:,} steps would pass the {settings.scale} scale's "
                f"cap of {cap:,} steps")
    return ""


def lengthened(settings: scales.RunSettings, data, result: train.TrainResult) -> train.TrainResult | None:
    """The run twice as long, resumed from where it ended; None when it may not run on or would pass the cap.

    An App. C λ1 = 2 run keeps its new final optimiser state for a successor (``rebased``). A run that kept no final
    state (one ``train`` trained inside its successor's chain) trains again from step 0, bit for bit the same
    prefix; ``l1_run`` and ``program.Job.run`` train the λ1 = 2 run before its successor, keeping it."""
    if _why_not_double(settings, result):
        return None
    longer = _doubled(result.config)
    # The program trained the first length; a longer one is new training, so it reports progress at every scale.
    return train.train(longer, data, settings.cache_dir, progress=True, keep_final_state=True, extends=result.config,
                       keep_optimiser_state=scales.hands_on(longer))


def rebased(settings: scales.RunSettings, data, successor: train.TrainResult,
            source: train.TrainResult) -> train.TrainResult:
    """v2 App. C's ``successor`` started from the optimiser state ``source`` ended with, as long as its horizon after
    it needs (``scales.successor_config``); the run itself when it already starts there.
    Raises ``scales.HorizonBeyondCap`` when that is beyond the scale's cap."""
    if successor.config.optimiser_state_from in (None, source.config):
        return successor
    config = scales.successor_config(settings.scale, successor.config, source.config)
    return train.train(config, data, settings.cache_dir, progress=True,
                       keep_final_state=scales.may_run_on(settings.scale))


def _sources(runs: dict) -> dict:
    # {successor label: source label} for the App. C pairs within runs
    return {label: other for label, run in runs.items() for other, source in runs.items()
            if run.config.optimiser_state_from == source.config}


def settled(settings: scales.RunSettings, data, runs: dict,
            ruling_of: Callable[[dict], rules.Ruling]) -> tuple[dict, rules.Ruling]:
    """``runs`` ({label: TrainResult}) run on while the ruling ``ruling_of(runs)`` is ``UNSETTLED``: the runs it
    names (``MOVING``), twice as long each time, until it is certified or a run would pass the cap. Returns the
    runs and their last ruling; one left uncertified says in its reason why the runs stopped (the cap).

    A named App. C λ1 = 2 run that runs on ends with another optimiser state, so its successor in ``runs`` starts
    again from it (``rebased``). The certificate failed after the horizon the closed form gives: the runs go on
    rather than stop at "inconclusive"; what is still uncertified at the cap stays inconclusive, with its reason.
    Every cap is checked before any run trains, so no run trains for a pair another run's cap leaves undecided.
    """
    def stopped(why: str) -> tuple[dict, rules.Ruling]:
        return runs, dataclasses.replace(ruling, reason=f"{ruling.reason}; running on stops there: {why}")

    while UNSETTLED in (ruling := ruling_of(runs)).values:
        named = ruling.values[MOVING].split(MOVING_SEPARATOR)
        doubling = [label for label, run in runs.items() if _run_label(run) in named]
        sources = _sources(runs)
        restarting = [label for label in runs if sources.get(label) in doubling]
        doubling = [label for label in doubling if label not in restarting]  # a restart supersedes a doubling
        blocked = [why for why in (_why_not_double(settings, runs[label]) for label in doubling) if why]
        if not doubling:  # the ruling named no run of ``runs``: nothing could settle it
            blocked = [f"the runs it names ({ruling.values[MOVING]}) are not among these"]
        if blocked:
            return stopped("; ".join(dict.fromkeys(blocked)))
        try:
            for label in restarting:  # the restarts' lengths, before any training
                scales.successor_config(settings.scale, runs[label].config, _doubled(runs[sources[label]].config))
        except scales.HorizonBeyondCap as error:
            return stopped(str(error).removeprefix("step_cap: "))
        runs = {**runs, **{label: lengthened(settings, data, runs[label]) for label in doubling}}
        runs = {**runs, **{label: rebased(settings, data, runs[label], runs[sources[label]]) for label in restarting}}
    return runs, ruling


def beyond_cap_ruling(error: scales.HorizonBeyondCap, rule: str) -> rules.Ruling:
    """The inconclusive ruling of a cell whose run would need more steps than the scale's cap: not trained."""
    if not isinstance(error, scales.HorizonBeyondCap):
        raise ValueError(f"error must be a scales.HorizonBeyondCap, got {type(error).__name__}")
    return rules.Ruling("inconclusive", rule, "—", "—", 0, {}, f"not run: {error}")


def v1_runs(settings: scales.RunSettings, data) -> dict[float, train.TrainResult]:
    """L18: v1's SGD runs, one per λ1."""
    return {lam: l1_run(settings, data, "v1", "sgd", lam) for lam in scales.V1_L1["lambdas"]}


def v2_runs(settings: scales.RunSettings, data, optimiser: str, procedure: str) -> dict[float, train.TrainResult]:
    """L19/L20: v2's runs of one optimiser and procedure, one per λ1 in App. C's loop order."""
    return {lam: l1_run(settings, data, "v2", optimiser, lam, procedure) for lam in scales.V2_L1["lambdas"]}


def v2_cells(kinds=scales.V2_L1["optimisers"]) -> list[tuple[str, str]]:
    """(optimiser, procedure) pairs for the optimiser names ``kinds``; SGD keeps no optimiser state, so its two
    procedures are one run."""
    return [(opt, proc) for opt in kinds for proc in PROCEDURES if not (opt == "sgd" and proc == "fresh")]


SGD_STATELESS = ("SGD with torch's defaults keeps no optimiser state, so App. C's procedure and a fresh optimiser "
                 "per run are the same SGD run.")


def cell_name(optimiser: str, procedure: str) -> str:
    if optimiser == "sgd":
        return "SGD"  # no optimiser state: both procedures are the same run (a note on the card says so)
    return f"{optimisers.DISPLAY_NAMES[optimiser]}, {PROCEDURES[procedure]}"


ONE_RUN_PER_SETTING = ("One run per λ1 and optimiser, seed 42 as the paper's code sets it: the 10% noise band "
                       "around each edge is a fixed fraction of the edge, not a measured seed-to-seed spread. The "
                       "evidence rows compare each number with the paper's within 5%; the decision reads the row's "
                       "pattern by its rule, so a row can disagree while its part of the rule agrees. Each test "
                       "runs its runs on until its own statistic settles, so a run L19 and L20 share can appear on "
                       "the two cards at different lengths (the steps column).")


def describe_l1_run(evidence, settings: scales.RunSettings, data, preset: scales.L1Scale,
                    result: train.TrainResult) -> None:
    """The conditions and scale notes every L18-L20 card shows."""
    evidence.condition(f"scale {settings.scale}, device {settings.device}, data {data.source}, "
                       f"{result.initialisation}, {result.parameters:,} parameters")
    evidence.condition(train.precision_summary(result))
    for topic, why in preset.why.items():
        evidence.note(f"{settings.scale} scale, {topic}: {why}")
    evidence.note(ONE_RUN_PER_SETTING)
    gaps = miniature_gaps(result, data)
    # The claims report the paper's own experiment: a miniature of it is outside their premise (rule 1), whichever
    # way its rulings point; they are still made and shown, for what the penalty's mechanism does there.
    differs = "; ".join(gap.split(" (")[0] for gap in gaps)  # each gap without its explanation, which the caveat has
    evidence.premise(f"{PAPER_SETTING} (this run: {differs or 'the same'})", not gaps)
    if gaps:
        evidence.caveat("The rulings below read the penalty's mechanism in a miniature, not the paper's experiment: "
                        f"{'; '.join(gaps)}. They are made where the analysis the paper gives speaks (each run past "
                        "its own closed-form horizon, RMSProp and Adam at the paper's batch, App. C's state "
                        "settled), and shown; they count for nothing, either way, since the claim reports a run of "
                        "the paper's setting.")


#: The setting L18-L20 report (v1 App. B, v2 App. C), the premise of every cell that counts.
PAPER_SETTING = "the paper's setting, torchvision VGG16 at full width from ImageNet weights on CIFAR-10 at batch 512"


def miniature_gaps(result: train.TrainResult, data) -> list[str]:
    """How an L18-L20 run differs from the paper's (v1 App. B, v2 App. C: pretrained torchvision VGG16 on CIFAR-10 at
    batch 512), read from the run ([] for the paper's own setting)."""
    config = result.config
    gaps = []
    if config.width_divisor != 1:
        gaps.append(f"VGG16 narrowed {config.width_divisor}x ({result.parameters:,} parameters)")
    if not result.initialisation.startswith("pretrained"):  # gdcut.models.vgg16 says which it got
        gaps.append(result.initialisation)
    if data.name != "cifar10":  # gdcut.data's name of CIFAR-10
        gaps.append(f"data {DATA_SET_LABELS.get(data.name, data.name)}, not CIFAR-10")
    if config.batch_size != PAPER_BATCH:
        gaps.append(f"{optimisers.DISPLAY_NAMES[config.optimiser]} at batch {config.batch_size}, not the paper's "
                    f"{PAPER_BATCH} (its penalty step does not depend on the batch, v2 B.3.1; its data noise does)")
    return gaps


SETTLED = "settling window"
PREDICTION_HEADER = ["run", "λ1", f"L1 norm ({SETTLED})", "penalty-only L1", f"% |w|<1e-5 ({SETTLED})", "paper %",
                     "penalty-only %", "band width", "steps", "horizon (99% at 0)"]


def threshold_rows(results: dict, paper: dict) -> list[dict]:
    """``figures.threshold_curve``'s rows for runs ``{label: TrainResult}`` and the paper's shares ``{label: %}``."""
    rows = []
    for label, result in results.items():
        p = predict(result)
        rows.append({"label": label, "predicted": p.curve, "band": p.band, "measured": settled_share(result),
                     "measured_curve": result.final_shares, "paper": paper.get(label)})
    return rows


def prediction_row(label: str, result: train.TrainResult, paper_share: float | None) -> list:
    """A row of ``PREDICTION_HEADER``: a run measured, beside the paper's share and the penalty-only prediction."""
    p = predict(result)
    horizon = p.horizon if p.reached else f"> {result.steps}"
    return [label, result.config.lambda1, f"{settled_l1(result):.4g}", f"{p.l1:.4g}",
            f"{100 * settled_share(result):.2f}", "—" if paper_share is None else paper_share,
            f"{100 * p.share:.2f}", "—" if p.band is None else f"{p.band:.3g}", result.steps, horizon]
