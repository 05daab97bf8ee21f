"""The rulebook: from the outcomes of a claim's tests to one word (docs/rulebook.md).

Pure functions of plain data, so the rules can be read and tested on their own,
and they are the only place where evidence is weighed: a test records what it
measured (``gdcut.ledger.evidence``), and these rules decide what it counts as.

A claim's tests speak in two ways. An ordinary test asserts: when it passes,
a supporting test speaks for the claim and a refuting test (``refutes=True``)
against it. A *decision* test computes a statistic fixed before the run and
records, per cell (depth, optimiser, λ1, ...), ``supports``, ``refutes`` or
``inconclusive``. Either way each passing test yields cells, one per decision or
one for an ordinary test, and every cell goes through the same six rules
(``rule_cell``), whichever way it points:

1. *Void outside the premise.* A cell whose run fails a premise check of the
   claim (``evidence.premise``, a value computed from the run) is ``void``.
2. *Void at a bound.* A cell whose statistic sits at its floor or ceiling
   (``evidence.statistic``) could not have moved: ``void``.
3. *The claim's own arithmetic.* A claim is decided in exact arithmetic
   (propositions, worked examples) or in floating point (figures the paper
   made with floats), registry ``arithmetic``. A cell computed in the other
   arithmetic is a second ``reading``, shown beside the first, and moves
   nothing. Float64 with a certified error bound smaller than the margin it
   decides by reads as exact.
4. *Certified where the claim is about a limit.* For a claim with ``limit =
   true`` a cell counts, for or against, only with at least one convergence
   certificate and every certificate holding; otherwise ``inconclusive``.
5. *Swept where the paper is silent.* Every parameter the paper leaves open is
   declared in the registry with its natural defaults. A cell that refutes,
   or that supports a universal claim, counts only when its test swept every
   declared parameter over values that include the natural defaults
   (``evidence.swept``), or showed why the outcome cannot depend on it
   (``evidence.independent_of``); otherwise ``inconclusive``, naming what was
   not swept. An existential claim ("in the paper's setting ...") is supported
   by one cell inside its premise.
6. What remains counts as it points: ``supports`` or ``refutes``.

The verdict:

- ``unexpected``: a linked test failed or errored (the suite's expectation broke).
- ``conditional``: some cell supports the claim and some cell refutes it.
- ``holds`` / ``refuted``: cells point one way only.
- ``inconclusive``: no cell counts: all are void, inconclusive or second
  readings. Never a counterexample.
- ``not-run``, ``not-testable``, ``not-encoded``: as their names say.

Cells that do not count beside ones that do leave the verdict as it is; they
are listed in its reasons, and inconclusive or void ones make it partial
(``complete`` False); second readings do not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

VERDICTS = ("holds", "conditional", "refuted", "inconclusive", "unexpected", "not-run", "not-encoded",
            "not-testable")

#: Outcomes a linked test can have in the ledger.
OUTCOMES = ("passed", "failed", "error", "skipped")

#: What one decision of a pre-registered rule can say about its condition.
DECISIONS = ("supports", "refutes", "inconclusive")

#: What one cell counts as after the rulebook; a decision test as a whole ``decides``.
COUNTS = ("supports", "refutes", "void", "inconclusive", "reading", "decides")

#: How a claim is quantified over what the paper leaves open (registry ``quantifier``).
QUANTIFIERS = ("universal", "existential")

#: The arithmetic a claim is decided in (registry ``arithmetic``), and the ones a test can compute in.
CLAIM_ARITHMETIC = ("exact", "float")
ARITHMETIC = ("exact", "float64", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class OpenParameter:
    """A parameter the paper leaves open: its natural defaults must be among the values a sweep covers."""
    name: str
    natural: tuple[str, ...]
    sweep: str


@dataclass(frozen=True)
class Rulebook:
    """What the registry says about one claim that decides how its evidence counts."""
    limit: bool = False
    quantifier: str = "universal"
    arithmetic: str = "exact"
    open_parameters: tuple[OpenParameter, ...] = ()

    def __post_init__(self):
        if self.quantifier not in QUANTIFIERS:
            raise ValueError(f"quantifier must be one of {QUANTIFIERS}, got {self.quantifier!r}")
        if self.arithmetic not in CLAIM_ARITHMETIC:
            raise ValueError(f"arithmetic must be one of {CLAIM_ARITHMETIC}, got {self.arithmetic!r}")


@dataclass(frozen=True)
class Facts:
    """What a test (or one of its cells) recorded that the rules read.

    ``swept`` pairs a parameter with the labels of the values it took;
    ``independent`` names parameters the outcome provably does not depend on;
    ``arithmetic`` is "" when the test did not say (it then computes in the claim's own);
    ``paper_setting`` names where the paper states the setting the cell ran, when it ran the paper's own.
    """
    failed_premises: tuple[str, ...] = ()
    saturated: tuple[str, ...] = ()
    certificates: tuple[bool, ...] = ()
    swept: tuple[tuple[str, tuple[str, ...]], ...] = ()
    independent: tuple[str, ...] = ()
    arithmetic: str = ""
    certified_float: bool = False
    paper_setting: tuple[str, ...] = ()

    def __add__(self, other: "Facts") -> "Facts":
        return Facts(self.failed_premises + other.failed_premises, self.saturated + other.saturated,
                     self.certificates + other.certificates, self.swept + other.swept,
                     self.independent + other.independent, other.arithmetic or self.arithmetic,
                     self.certified_float or other.certified_float, self.paper_setting + other.paper_setting)


@dataclass(frozen=True)
class Decision:
    """One cell's decision: the condition it covers, the word, why when inconclusive, the cell's own facts, and
    its finding in the paper's terms (the measured number beside the paper's; read by people, never by the rules)."""
    condition: str
    decision: str
    reason: str = ""
    facts: Facts = Facts()
    finding: str = ""


@dataclass(frozen=True)
class Outcome:
    nodeid: str
    outcome: str
    refutes: bool
    duration_s: float = 0.0
    reason: str = ""
    decisions: tuple[Decision, ...] = ()
    #: What the test recorded for all its cells.
    facts: Facts = Facts()


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()
    #: True when every test the source links to the claim ran and passed, and every cell counted.
    complete: bool = False
    #: The claim's tests that did not run: collected parameters and linked functions that never reported, then
    #: the skipped ones (node IDs, or ``path::name`` for a function this run did not collect).
    unrun: tuple[str, ...] = ()
    #: Cells that could not speak: inconclusive ones, and void ones (outside the premise, at a bound). Second
    #: readings are neither: they are shown beside the decision by design, and leave the verdict complete.
    inconclusive_cells: int = 0
    void_cells: int = 0


def function_key(nodeid: str) -> str:
    """The test function a node ID belongs to: parametrisation stripped."""
    return nodeid.split("[", 1)[0]


def _unswept(facts: Facts, book: Rulebook) -> list[str]:
    """The declared open parameters the facts neither swept over their natural defaults nor showed irrelevant."""
    covered = {}
    for name, values in facts.swept:
        covered.setdefault(name, set()).update(values)
    missing = []
    for parameter in book.open_parameters:
        if parameter.name in facts.independent:
            continue
        values = covered.get(parameter.name, set())
        if len(values) < 2 or not set(parameter.natural) <= values:
            defaults = ", ".join(parameter.natural)
            missing.append(f"{parameter.name} (natural defaults {defaults})" if defaults else parameter.name)
    return missing


def rule_cell(pointing: str, facts: Facts, book: Rulebook) -> tuple[str, str]:
    """What one cell counts as under the rulebook, and why when it does not count as it points.

    ``pointing`` is the way the cell points before the rules: "supports",
    "refutes" or "inconclusive" (a rule already called the experiment void).
    """
    if pointing not in DECISIONS:
        raise ValueError(f"pointing must be one of {DECISIONS}, got {pointing!r}")
    if pointing == "inconclusive":
        return "inconclusive", ""
    if facts.failed_premises:
        return "void", "outside the premise: " + "; ".join(facts.failed_premises)
    if facts.saturated:
        return "void", "a statistic that cannot move: " + "; ".join(facts.saturated)
    arithmetic = facts.arithmetic or ("exact" if book.arithmetic == "exact" else "float64")
    exact_reading = arithmetic == "exact" or facts.certified_float
    if exact_reading != (book.arithmetic == "exact"):
        own = "exact arithmetic" if book.arithmetic == "exact" else "floating point, as the paper computed it"
        return "reading", f"a second reading in {arithmetic}: the claim is decided in {own}"
    if book.limit and not (facts.certificates and all(facts.certificates)):
        return "inconclusive", "about a limit, without a convergence certificate that holds"
    if pointing == "refutes" or book.quantifier == "universal":
        missing = _unswept(facts, book)
        if missing:
            return "inconclusive", "not swept over what the paper leaves open: " + "; ".join(missing)
    return pointing, ""


class Cell(NamedTuple):
    """One cell after the rulebook: the condition it covers, what it counts as, why, where the paper
    states its setting when it ran the paper's own, and its finding (``Decision.finding``)."""
    condition: str
    count: str
    reason: str
    paper_setting: tuple[str, ...] = ()
    finding: str = ""


def cells(outcome: Outcome, book: Rulebook) -> list[Cell]:
    """A passing test's cells: one per decision, or one for an ordinary test."""
    if outcome.decisions:
        ruled = []
        for d in outcome.decisions:
            facts = outcome.facts + d.facts
            count, why = rule_cell(d.decision, facts, book)
            ruled.append(Cell(d.condition, count, why or d.reason, facts.paper_setting, d.finding))
        return ruled
    count, why = rule_cell("refutes" if outcome.refutes else "supports", outcome.facts, book)
    return [Cell(outcome.nodeid, count, why, outcome.facts.paper_setting)]


def counted_as(outcome: Outcome, book: Rulebook = Rulebook()) -> str:
    """What a passing test counts as: ``decides`` for a decision test, else its one cell's count."""
    if outcome.decisions:
        return "decides"
    return cells(outcome, book)[0].count


def claim_verdict(outcomes: list[Outcome], encoded: frozenset[str] = frozenset(), not_testable: str = "",
                  book: Rulebook = Rulebook(), collected: frozenset[str] | None = frozenset()) -> Verdict:
    """The verdict of one claim.

    ``outcomes`` are the linked tests that reported in this run; ``encoded``
    holds the test functions (``path::name``) the source links to the claim,
    run or not; ``collected`` the node IDs of its tests this run collected,
    every parameter included, selected or not (a deselected ``[adam]`` row
    leaves the claim partial although its function ran), None when the run
    cannot know them (pytest-xdist workers interrupted before they reported:
    then no verdict is complete); ``not_testable`` is
    the registry's reason for context claims; ``book`` the claim's rulebook
    entry from the registry.
    """
    broken = [o for o in outcomes if o.outcome in ("failed", "error")]
    if broken:
        return Verdict("unexpected", tuple(f"{o.nodeid} {o.outcome}" for o in broken))
    passed = [o for o in outcomes if o.outcome == "passed"]
    ruled = [(o, cell) for o in passed for cell in cells(o, book)]
    counting = [(o, c) for o, c in ruled if c.count in ("supports", "refutes")]
    # Ordinary tests explain themselves on the card; decisions name their cells in the reasons.
    decided = _unique(tuple(f"{c.count}: {c.condition}" for o, c in counting if o.decisions))
    aside = _unique(tuple(f"{c.count}: {c.condition}" + (f" ({c.reason})" if c.reason else "")
                          for o, c in ruled if c.count not in ("supports", "refutes")))
    supporting = any(c.count == "supports" for _, c in counting)
    refuting = any(c.count == "refutes" for _, c in counting)
    skipped = [o for o in outcomes if o.outcome == "skipped"]
    reported = {o.nodeid for o in outcomes}
    never = sorted(encoded - {function_key(nodeid) for nodeid in reported}) + sorted((collected or set()) - reported)
    unrun = tuple(never + [o.nodeid for o in skipped])
    silent = {count: sum(1 for _, c in ruled if c.count == count) for count in ("inconclusive", "void")}
    complete = bool(outcomes) and collected is not None and not unrun and not any(silent.values())
    partial = {"unrun": unrun, "inconclusive_cells": silent["inconclusive"], "void_cells": silent["void"]}
    if supporting and refuting:
        return Verdict("conditional", decided + aside, complete, **partial)
    if supporting or refuting:
        return Verdict("holds" if supporting else "refuted", decided + aside, complete, **partial)
    if aside:
        return Verdict("inconclusive", aside, **partial)
    if skipped:
        reasons = tuple(dict.fromkeys(o.reason or "skipped" for o in skipped))
        return Verdict("not-run", reasons, **partial)
    if encoded:
        return Verdict("not-run", ("not selected in this run (deselected, filtered or interrupted)",), **partial)
    if not_testable:
        return Verdict("not-testable", (not_testable,))
    return Verdict("not-encoded", ("no test is linked to this claim yet",))


def facts_from_records(records: list[dict]) -> Facts:
    """The facts a list of evidence records states (see ``gdcut.ledger.evidence``)."""
    arithmetic = [r for r in records if r["kind"] == "arithmetic"]
    return Facts(
        failed_premises=tuple(r["text"] for r in records if r["kind"] == "premise" and not r["holds"]),
        saturated=tuple(r["text"] for r in records if r["kind"] == "statistic" and r["saturated"]),
        certificates=tuple(r["holds"] for r in records if r["kind"] == "certificate"),
        swept=tuple((r["parameter"], tuple(r["values"])) for r in records if r["kind"] == "swept"),
        independent=tuple(r["parameter"] for r in records if r["kind"] == "independent"),
        arithmetic=arithmetic[-1]["arithmetic"] if arithmetic else "",
        certified_float=any(r["certified"] for r in arithmetic),
        paper_setting=tuple(r["where"] for r in records if r["kind"] == "paper_setting"),
    )


def outcome_from_result(result: dict, records: list[dict]) -> Outcome:
    """A ledger result (nodeid, outcome, refutes, duration_s, reason) and its records as one ``Outcome``.

    A record with a ``cell`` key belongs to the decision of that condition; the
    others belong to the whole test.
    """
    by_cell: dict[str, list[dict]] = {}
    for r in records:
        by_cell.setdefault(r.get("cell", ""), []).append(r)
    whole = facts_from_records(by_cell.get("", []))
    decisions = tuple(
        Decision(d["condition"], d["decision"], d.get("reason", ""), facts_from_records(by_cell.get(d["condition"], [])),
                 d.get("finding", ""))
        for d in records if d["kind"] == "decision")
    return Outcome(result["nodeid"], result["outcome"], result["refutes"], result.get("duration_s", 0.0),
                   result.get("reason", ""), decisions, whole)


def _unique(reasons: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(reasons))
