"""Pre-registered decision rules: a statistic, a threshold and a sample size, fixed before the run.

An empirical claim is decided by a rule, never by which test happens to
assert which outcome. A rule returns a ``Ruling``: ``supports``, ``refutes``
or ``inconclusive`` with the numbers it used. ``inconclusive`` means the
experiment could not speak (nothing trained, too short, too little power) and
is never a counterexample. The test records the ruling with
``evidence.decision`` and passes whatever it says; a ruling built from a NaN
is a programming error and raises.

The two-sample rules use one-sided 95% t bounds and a margin of practical
size (``margin``), not just a p-value:

* superiority (C5): supports when the lower bound of the mean exceeds 0 (the
  effect is real) and the mean itself reaches the margin (it is large enough);
  refutes when the upper bound stays below the margin (any effect is too small);
* equivalence (C6, two one-sided tests, TOST): supports when the 90% interval
  lies inside (-margin, margin); refutes when it lies wholly outside.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real

from gdcut.ledger.verdict import DECISIONS

#: Pairs fewer than this give a t bound too wide to decide anything (issue #9: at least 5 seeds per cell).
MIN_PAIRS = 5
ALPHA = 0.05


@dataclass(frozen=True)
class Ruling:
    """What a pre-registered rule decided for one cell, with everything needed to check it by hand."""

    decision: str
    rule: str
    statistic: str
    threshold: str
    n: int
    values: dict = field(default_factory=dict)
    reason: str = ""

    def __post_init__(self):
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {self.decision!r}")
        for name in ("rule", "statistic", "threshold"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{name} must be a non-empty string")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValueError(f"n must be a non-negative integer (the sample size), got {self.n!r}")
        for key, value in self.values.items():
            if value is None or isinstance(value, str):
                continue
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
                raise ValueError(f"values[{key!r}] must be a finite number, None or text, got {value!r}: "
                                 "the code computing the statistic is broken")
        if self.decision == "inconclusive" and not self.reason:
            raise ValueError("an inconclusive ruling needs a reason (what made the experiment void)")


def _t_bounds(sample, alpha: float) -> tuple[float, float, float, float]:
    """Mean, sample sd, and the one-sided (1 - alpha) lower and upper t bounds of the mean."""
    from scipy import stats

    n = len(sample)
    mean = sum(sample) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in sample) / (n - 1))
    half = float(stats.t.ppf(1 - alpha, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def _checked_margin_and_pairs(margin, min_pairs) -> None:
    if not (isinstance(margin, (int, float)) and margin > 0 and math.isfinite(margin)):
        raise ValueError(f"margin must be a positive number, got {margin!r}")
    if isinstance(min_pairs, bool) or not isinstance(min_pairs, int) or min_pairs < 2:
        raise ValueError(f"min_pairs must be an integer of at least 2 (a t bound needs a spread), got {min_pairs!r}")


def _too_few(rule: str, statistic: str, threshold: str, n: int, min_pairs: int, margin: float, what: str) -> Ruling:
    return Ruling("inconclusive", rule, statistic, threshold, n, {"margin": margin},
                  f"{n} {what}, fewer than the {min_pairs} the rule needs")


def _checked_sample(name: str, sample) -> list[float]:
    values = [float(x) for x in sample]
    if any(not math.isfinite(x) for x in values):
        raise ValueError(f"{name} holds a non-finite value {values}: the code computing it is broken")
    return values


#: A two-sample ruling that decides carries this value: how far its bounds lie past the edge they decide by, as a
#: share of the margin (0.06: 6% of the margin). It never moves the decision; a card shows a narrow one.
CLEARANCE = "clearance"


def _cleared(values: dict, distance: float) -> dict:
    return dict(values, **{CLEARANCE: distance / values["margin"]})


def paired_superiority(gaps, margin: float, rule: str, statistic: str, alpha: float = ALPHA,
                       min_pairs: int = MIN_PAIRS) -> Ruling:
    """Is the mean paired gap positive and at least ``margin``? (one-sided t bounds)."""
    gaps = _checked_sample("gaps", gaps)
    _checked_margin_and_pairs(margin, min_pairs)
    threshold = (f"supports: lower {100 * (1 - alpha):g}% bound of the mean > 0 and mean ≥ margin {margin:.4g}; "
                 f"refutes: upper {100 * (1 - alpha):g}% bound < margin; otherwise inconclusive")
    if len(gaps) < min_pairs:
        return _too_few(rule, statistic, threshold, len(gaps), min_pairs, margin, "pairs")
    mean, sd, lower, upper = _t_bounds(gaps, alpha)
    values = {"mean": mean, "sd": sd, "lower bound": lower, "upper bound": upper, "margin": margin}
    if lower > 0 and mean >= margin:
        return Ruling("supports", rule, statistic, threshold, len(gaps), _cleared(values, min(lower, mean - margin)))
    if upper < margin:
        return Ruling("refutes", rule, statistic, threshold, len(gaps), _cleared(values, margin - upper))
    return Ruling("inconclusive", rule, statistic, threshold, len(gaps), values,
                  f"too little power: the {100 * (1 - alpha):g}% bounds [{lower:.3g}, {upper:.3g}] straddle "
                  f"{'0' if mean >= margin else f'the margin {margin:.3g}'}")


def paired_equivalence(gaps, margin: float, rule: str, statistic: str, alpha: float = ALPHA,
                       min_pairs: int = MIN_PAIRS) -> Ruling:
    """Two one-sided tests (TOST): is the mean paired gap within (-margin, margin)?"""
    gaps = _checked_sample("gaps", gaps)
    _checked_margin_and_pairs(margin, min_pairs)
    level = 100 * (1 - 2 * alpha)
    threshold = (f"supports (equivalent): the {level:g}% interval of the mean lies inside ±{margin:.4g}; "
                 f"refutes (different): it lies wholly outside; otherwise inconclusive")
    if len(gaps) < min_pairs:
        return _too_few(rule, statistic, threshold, len(gaps), min_pairs, margin, "pairs")
    mean, sd, lower, upper = _t_bounds(gaps, alpha)
    values = {"mean": mean, "sd": sd, "lower bound": lower, "upper bound": upper, "margin": margin}
    if -margin < lower and upper < margin:
        return Ruling("supports", rule, statistic, threshold, len(gaps),
                      _cleared(values, min(lower + margin, margin - upper)))
    if lower >= margin or upper <= -margin:
        return Ruling("refutes", rule, statistic, threshold, len(gaps),
                      _cleared(values, lower - margin if lower >= margin else -margin - upper))
    return Ruling("inconclusive", rule, statistic, threshold, len(gaps), values,
                  f"too little power: the {level:g}% interval [{lower:.3g}, {upper:.3g}] crosses ±{margin:.3g}")


def difference_superiority(larger, smaller, margin: float, rule: str, statistic: str, alpha: float = ALPHA,
                           min_pairs: int = MIN_PAIRS) -> Ruling:
    """Does the mean of ``larger`` exceed the mean of ``smaller`` by at least ``margin``? (Welch bounds)."""
    from scipy import stats

    larger, smaller = _checked_sample("larger", larger), _checked_sample("smaller", smaller)
    _checked_margin_and_pairs(margin, min_pairs)
    threshold = (f"supports: lower {100 * (1 - alpha):g}% Welch bound of the difference > 0 and difference ≥ "
                 f"margin {margin:.4g}; refutes: upper bound < margin; otherwise inconclusive")
    n = min(len(larger), len(smaller))
    if n < min_pairs:
        return _too_few(rule, statistic, threshold, n, min_pairs, margin, "samples per group")
    ma, sa, _, _ = _t_bounds(larger, alpha)
    mb, sb, _, _ = _t_bounds(smaller, alpha)
    va, vb = sa ** 2 / len(larger), sb ** 2 / len(smaller)
    diff = ma - mb
    se = math.sqrt(va + vb)
    if se == 0:
        lower = upper = diff
    else:
        dof = (va + vb) ** 2 / (va ** 2 / (len(larger) - 1) + vb ** 2 / (len(smaller) - 1))  # Welch-Satterthwaite
        half = float(stats.t.ppf(1 - alpha, dof)) * se
        lower, upper = diff - half, diff + half
    values = {"difference": diff, "lower bound": lower, "upper bound": upper, "margin": margin}
    if lower > 0 and diff >= margin:
        return Ruling("supports", rule, statistic, threshold, n, _cleared(values, min(lower, diff - margin)))
    if upper < margin:
        return Ruling("refutes", rule, statistic, threshold, n, _cleared(values, margin - upper))
    return Ruling("inconclusive", rule, statistic, threshold, n, values,
                  f"too little power: the bounds [{lower:.3g}, {upper:.3g}] straddle "
                  f"{'0' if diff >= margin else f'the margin {margin:.3g}'}")


# --------------------------------------------------------------------------- shares and per-sample outcomes
# For analytic claims whose outcome is a measured share or a pattern over seeds
# (issue #9, item 5): a binomial share against a stated level, and yes/no
# outcomes per sample (seed, entry), where ``None`` marks a void sample.

def share_bounds(hits: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """One-sided (1 - alpha) Clopper-Pearson lower and upper bounds of the binomial share hits / n (exact)."""
    from scipy import stats

    for name, value in (("hits", hits), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if n == 0 or hits > n:
        raise ValueError(f"need 0 <= hits <= n and n >= 1, got hits={hits}, n={n}")
    lower = 0.0 if hits == 0 else float(stats.beta.ppf(alpha, hits, n - hits + 1))
    upper = 1.0 if hits == n else float(stats.beta.ppf(1 - alpha, hits + 1, n - hits))
    return lower, upper


def share_rule(hits: int, n: int, level: float, rule: str, statistic: str, alpha: float = ALPHA,
               min_n: int = 1) -> Ruling:
    """Is the share hits / n at least ``level``? (exact one-sided Clopper-Pearson bounds).

    supports when the lower (1 - alpha) bound exceeds ``level``; refutes when the
    upper bound stays below it; inconclusive otherwise or with fewer than ``min_n`` samples.
    """
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    pct = f"{100 * (1 - alpha):g}%"
    threshold = (f"supports: lower {pct} Clopper-Pearson bound of the share > {level:g}; refutes: upper {pct} "
                 f"bound < {level:g}; otherwise inconclusive; at least {min_n} samples")
    if n < min_n:
        return Ruling("inconclusive", rule, statistic, threshold, n, {"hits": hits, "level": level},
                      f"{n} samples, fewer than the {min_n} the rule needs")
    lower, upper = share_bounds(hits, n, alpha)
    values = {"hits": hits, "share": hits / n, "lower bound": lower, "upper bound": upper, "level": level}
    if lower > level:
        return Ruling("supports", rule, statistic, threshold, n, values)
    if upper < level:
        return Ruling("refutes", rule, statistic, threshold, n, values)
    return Ruling("inconclusive", rule, statistic, threshold, n, values,
                  f"too little power: the {pct} bounds [{lower:.3g}, {upper:.3g}] straddle {level:g}")


def _yes_no_void(outcomes) -> tuple[int, int, int]:
    counts = [0, 0, 0]
    for outcome in outcomes:
        if outcome is None:
            counts[2] += 1
        elif type(outcome).__name__ in ("bool", "bool_"):
            counts[0 if bool(outcome) else 1] += 1
        else:
            raise ValueError(f"outcomes must hold True, False or None (void), got {outcome!r}")
    return counts[0], counts[1], counts[2]


def unanimity_rule(outcomes, rule: str, statistic: str, min_n: int, void: str = "void") -> Ruling:
    """A typical behaviour over samples: supports when every usable sample shows it, refutes when none does.

    ``outcomes`` holds True / False per sample and None for a void one (``void``
    says why). Mixed outcomes are inconclusive (the behaviour depends on the sample),
    and so are fewer than ``min_n`` usable samples.
    """
    yes, no, voids = _yes_no_void(outcomes)
    threshold = (f"supports: all of ≥ {min_n} usable samples yes; refutes: all of ≥ {min_n} usable samples no; "
                 "mixed or fewer usable: inconclusive")
    values = {"yes": yes, "no": no, "void": voids}
    if yes + no < min_n:
        return Ruling("inconclusive", rule, statistic, threshold, yes + no, values,
                      f"{yes + no} usable samples, fewer than the {min_n} the rule needs ({voids} {void})")
    if no == 0:
        return Ruling("supports", rule, statistic, threshold, yes + no, values)
    if yes == 0:
        return Ruling("refutes", rule, statistic, threshold, yes + no, values)
    return Ruling("inconclusive", rule, statistic, threshold, yes + no, values,
                  f"depends on the sample: {yes} yes, {no} no")


def counterexample_rule(outcomes, rule: str, statistic: str, min_n: int, void: str = "void") -> Ruling:
    """A universal statement over samples: one 'no' refutes it; supports when ≥ ``min_n`` usable samples all say yes."""
    yes, no, voids = _yes_no_void(outcomes)
    threshold = f"refutes: any sample no (a counterexample); supports: all of ≥ {min_n} usable samples yes"
    values = {"yes": yes, "no": no, "void": voids}
    if no:
        return Ruling("refutes", rule, statistic, threshold, yes + no, values)
    if yes < min_n:
        return Ruling("inconclusive", rule, statistic, threshold, yes, values,
                      f"{yes} usable samples, fewer than the {min_n} the rule needs ({voids} {void})")
    return Ruling("supports", rule, statistic, threshold, yes, values)


# --------------------------------------------------------------------------- the paper's words
# Issue 18, rule 6: every threshold a claim is decided by comes from the words the
# paper states it in, through this one table, so that one phrase means one rule
# everywhere. docs/rulebook.md prints the table (tests/test_rules.py keeps the two equal).

HALF = 0.5  # "typically", "in most scenarios": more often than not
SUBSTANTIAL_FACTOR = 2.0  # "differ substantially": one at least double the other


@dataclass(frozen=True)
class Wording:
    """A phrase of the paper, what the suite reads it to require, and the rule that decides it."""

    words: str
    meaning: str
    decide: Callable[..., Ruling]
    where: str


def _more_often_than_not(hits: int, n: int, rule: str, statistic: str, min_n: int = 1) -> Ruling:
    return share_rule(hits, n, HALF, rule, statistic, min_n=min_n)


def _without_exception(outcomes, rule: str, statistic: str, min_n: int, void: str = "void") -> Ruling:
    return counterexample_rule(outcomes, rule, statistic, min_n, void)


def _at_least_double(ratio: float, rule: str, statistic: str, n: int = 1) -> Ruling:
    """A ratio of two positive sizes ≥ 2 supports "differ substantially"; below 2 refutes it."""
    value = _checked_sample("ratio", [ratio])[0]
    if value <= 0:
        raise ValueError(f"ratio must be positive (largest over smallest), got {ratio!r}")
    threshold = "supports: largest / smallest ≥ 2 (at least double); refutes: below 2"
    return Ruling("supports" if value >= SUBSTANTIAL_FACTOR else "refutes", rule, statistic, threshold, n,
                  {"ratio": value, "factor": SUBSTANTIAL_FACTOR})


def within_seed_spread(gaps, spread: float, rule: str, statistic: str, alpha: float = ALPHA,
                       min_pairs: int = MIN_PAIRS) -> Ruling:
    """"Indistinguishable": the mean paired effect lies within the seed-to-seed spread (TOST with that margin).

    ``spread`` is the seed-to-seed standard deviation of the statistic, pooled over the
    two arms and measured in the same runs (``gdcut.deepnet.seed_spread``), so the margin
    is what reseeding alone moves.
    """
    if isinstance(spread, bool) or not isinstance(spread, Real) or not math.isfinite(spread) or spread <= 0:
        raise ValueError(f"spread must be positive (a standard deviation across seeds), got {spread!r}")
    return paired_equivalence(gaps, spread, rule, statistic, alpha, min_pairs)


PAPER_WORDS: dict[str, Wording] = {w.words: w for w in (
    Wording("with probability 1", "no exception among the samples drawn from the stated continuous distribution; "
            "one exception refutes", _without_exception, "L1 (v2 Prop 4.1), L13 (v2 Prop B.4)"),
    Wording("no overlap", "every sample is ordered the same way; one sample out of order refutes",
            _without_exception, "L16, L17 (v2 Fig. 5)"),
    Wording("typically", "more than half of the samples (one-sided 95% Clopper-Pearson bounds against 1/2)",
            _more_often_than_not, "L16 (v2 App. B.4)"),
    Wording("in most scenarios", "more than half of the samples (one-sided 95% Clopper-Pearson bounds against 1/2)",
            _more_often_than_not, "L15 (v2 App. B.3)"),
    Wording("differ substantially", "the largest value is at least double the smallest", _at_least_double,
            "L19 (v2 §4)"),
    Wording("indistinguishable", "the 90% interval of the mean paired effect lies within ± the seed-to-seed "
            "standard deviation of the statistic, pooled over both arms", within_seed_spread,
            "C6 (v2 §3, Fig. 2 bottom; not in v1)"),
)}


def by_words(words: str) -> Wording:
    """The rule the paper's ``words`` are decided by (a ValueError lists the known phrases)."""
    try:
        return PAPER_WORDS[words]
    except KeyError:
        raise ValueError(f"words {words!r} are not in the table of the paper's words; known: "
                         f"{', '.join(map(repr, PAPER_WORDS))}") from None
