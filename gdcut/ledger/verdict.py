"""Verdict rules: from the outcomes of a claim's tests to one word.

Pure functions of plain data, so the rules can be read and tested on their own.

- ``unexpected``: a linked test failed or errored (the suite's expectation broke).
- ``conditional``: supporting and refuting tests both passed.
- ``holds``: supporting tests passed, no refuting test passed.
- ``refuted``: refuting tests passed, no supporting test passed.
- ``not-run``: tests exist but none passed in this run (skipped, deselected, interrupted).
- ``not-testable``: a context claim with no test and a stated reason.
- ``not-encoded``: no test yet.
"""
from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("holds", "conditional", "refuted", "unexpected", "not-run", "not-encoded", "not-testable")

#: Outcomes a linked test can have in the ledger.
OUTCOMES = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Outcome:
    nodeid: str
    outcome: str
    refutes: bool
    duration_s: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()
    #: True when every test the source links to the claim ran and passed.
    complete: bool = False


def function_key(nodeid: str) -> str:
    """The test function a node ID belongs to: parametrisation stripped."""
    return nodeid.split("[", 1)[0]


def claim_verdict(outcomes: list[Outcome], encoded: frozenset[str] = frozenset(), not_testable: str = "") -> Verdict:
    """The verdict of one claim.

    ``outcomes`` are the linked tests that reported in this run; ``encoded``
    holds the test functions (``path::name``) the source links to the claim,
    run or not; ``not_testable`` is the registry's reason for context claims.
    """
    broken = [o for o in outcomes if o.outcome in ("failed", "error")]
    if broken:
        return Verdict("unexpected", tuple(f"{o.nodeid} {o.outcome}" for o in broken))
    supporting = [o for o in outcomes if o.outcome == "passed" and not o.refutes]
    refuting = [o for o in outcomes if o.outcome == "passed" and o.refutes]
    skipped = [o for o in outcomes if o.outcome == "skipped"]
    complete = bool(outcomes) and not skipped and encoded <= {function_key(o.nodeid) for o in outcomes}
    if supporting and refuting:
        return Verdict("conditional", (), complete)
    if supporting:
        return Verdict("holds", (), complete)
    if refuting:
        return Verdict("refuted", (), complete)
    if skipped:
        reasons = tuple(dict.fromkeys(o.reason or "skipped" for o in skipped))
        return Verdict("not-run", reasons)
    if encoded:
        return Verdict("not-run", ("not selected in this run (deselected, filtered or interrupted)",))
    if not_testable:
        return Verdict("not-testable", (not_testable,))
    return Verdict("not-encoded", ("no test is linked to this claim yet",))
