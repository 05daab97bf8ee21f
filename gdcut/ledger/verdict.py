"""Verdict rules: from the outcomes of a claim's tests to one word.

Pure functions of plain data, so the rules can be read and tested on their own.

A claim's tests speak in two ways. An ordinary test asserts: when it passes,
a supporting test counts for the claim and a refuting test (``refutes=True``)
against it. A *decision* test computes a statistic that was fixed before the
run and records, per condition (depth, optimiser, λ1, ...), a decision:
``supports``, ``refutes`` or ``inconclusive`` (the experiment was void: nothing
trained, the run ended before the horizon the analysis needs, too little
power). A decision test passes whatever it decides; it fails only when its
code is broken. Its decisions, not its role, count for the verdict.

- ``unexpected``: a linked test failed or errored (the suite's expectation broke).
- ``conditional``: something supports the claim and something refutes it.
- ``holds``: something supports the claim, nothing refutes it.
- ``refuted``: something refutes the claim, nothing supports it.
- ``inconclusive``: nothing supports or refutes: only inconclusive decisions, uncertified refutations of a
  limit, or caveats; never a counterexample. (A decision rule whose refutation rests on one unswept
  setting reports that cell inconclusive itself, e.g. ``gdcut.deepnet.uncertified``.)
- ``not-run``: tests exist but none passed in this run (skipped, deselected, interrupted).
- ``not-testable``: a context claim with no test and a stated reason.
- ``not-encoded``: no test yet.

Inconclusive cells beside usable ones do not move the verdict; they are listed
in its reasons and make it partial (``complete`` False).

Two rules (issue 10) decide what an ordinary passing test counts as
(``counted_as``), before the roles above are read:

1. *In the premise.* A test that recorded a premise check that fails
   (``evidence.premise(text, holds=False)``) ran on an instance outside the
   claim's premise: it counts as a ``caveat``, whatever its role. Caveats are
   listed in the reasons and never move the verdict. A test that records
   decisions keeps them: its pre-registered rule already says when a cell is void.
2. *Converged where the claim is about a limit.* For a claim marked
   ``limit = true`` in the registry, a refuting test counts as a refutation
   only with at least one convergence certificate and none failed
   (``evidence.certificate``); without one it counts as ``inconclusive``.
"""
from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("holds", "conditional", "refuted", "inconclusive", "unexpected", "not-run", "not-encoded",
            "not-testable")

#: Outcomes a linked test can have in the ledger.
OUTCOMES = ("passed", "failed", "error", "skipped")

#: What one decision of a pre-registered rule can say about its condition.
DECISIONS = ("supports", "refutes", "inconclusive")

#: What one passing test counts as for its claim (``counted_as``).
COUNTS = ("supports", "refutes", "caveat", "inconclusive", "decides")


@dataclass(frozen=True)
class Decision:
    """One cell's decision: the condition it covers, the word, and why when inconclusive."""
    condition: str
    decision: str
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    nodeid: str
    outcome: str
    refutes: bool
    duration_s: float = 0.0
    reason: str = ""
    decisions: tuple[Decision, ...] = ()
    #: The premise checks the test recorded that failed (their texts).
    failed_premises: tuple[str, ...] = ()
    #: One bool per convergence certificate the test recorded: did it hold?
    certificates: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()
    #: True when every test the source links to the claim ran and passed, and no decision was inconclusive.
    complete: bool = False


def function_key(nodeid: str) -> str:
    """The test function a node ID belongs to: parametrisation stripped."""
    return nodeid.split("[", 1)[0]


def counted_as(outcome: Outcome, limit: bool = False) -> str:
    """What a passing test counts as: its decisions, a caveat, an uncertified (inconclusive) refutation, or its role.

    ``limit``: the claim is about an eventual value, a limit or a final norm
    (registry ``limit = true``), so a refutation needs a convergence certificate.
    """
    if outcome.decisions:
        return "decides"
    if outcome.failed_premises:
        return "caveat"
    if not outcome.refutes:
        return "supports"
    if limit and not (outcome.certificates and all(outcome.certificates)):
        return "inconclusive"
    return "refutes"


def claim_verdict(outcomes: list[Outcome], encoded: frozenset[str] = frozenset(), not_testable: str = "",
                  limit: bool = False) -> Verdict:
    """The verdict of one claim.

    ``outcomes`` are the linked tests that reported in this run; ``encoded``
    holds the test functions (``path::name``) the source links to the claim,
    run or not; ``not_testable`` is the registry's reason for context claims;
    ``limit`` marks a claim about a limit (see ``counted_as``).
    """
    broken = [o for o in outcomes if o.outcome in ("failed", "error")]
    if broken:
        return Verdict("unexpected", tuple(f"{o.nodeid} {o.outcome}" for o in broken))
    passed = [o for o in outcomes if o.outcome == "passed"]
    counts = {o.nodeid: counted_as(o, limit) for o in passed}
    decisions = [d for o in passed for d in o.decisions]
    # Ordinary tests explain themselves on the card; decisions name their cells in the reasons.
    cells = _unique(tuple(f"{d.decision}: {d.condition}" for d in decisions if d.decision != "inconclusive"))
    void = _unique(tuple(f"inconclusive: {d.condition}" + (f" ({d.reason})" if d.reason else "")
                         for d in decisions if d.decision == "inconclusive")
                   + tuple(f"inconclusive: {o.nodeid} refutes a limit without a convergence certificate that holds"
                           for o in passed if counts[o.nodeid] == "inconclusive"))
    caveats = _unique(tuple(f"caveat: {o.nodeid} is outside the premise ({'; '.join(o.failed_premises)})"
                            for o in passed if counts[o.nodeid] == "caveat"))
    supporting = "supports" in counts.values() or any(d.decision == "supports" for d in decisions)
    refuting = "refutes" in counts.values() or any(d.decision == "refutes" for d in decisions)
    skipped = [o for o in outcomes if o.outcome == "skipped"]
    complete = (bool(outcomes) and not skipped and not void
                and encoded <= {function_key(o.nodeid) for o in outcomes})
    if supporting and refuting:
        return Verdict("conditional", cells + void + caveats, complete)
    if supporting or refuting:
        return Verdict("holds" if supporting else "refuted", cells + void + caveats, complete)
    if void or caveats:
        # Caveats alone decide nothing: the claim was not tested inside its premise.
        return Verdict("inconclusive", void + caveats)
    if skipped:
        reasons = tuple(dict.fromkeys(o.reason or "skipped" for o in skipped))
        return Verdict("not-run", reasons)
    if encoded:
        return Verdict("not-run", ("not selected in this run (deselected, filtered or interrupted)",))
    if not_testable:
        return Verdict("not-testable", (not_testable,))
    return Verdict("not-encoded", ("no test is linked to this claim yet",))


def _unique(reasons: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(reasons))
