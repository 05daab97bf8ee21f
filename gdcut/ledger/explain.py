"""What a reader sees first on a card: the verdict in one sentence, and agreement with the paper.

Pure functions of plain ledger data, so the wording can be read and tested on
its own.  A conditional claim's sentence names both sides, taken from what the
run recorded: the conditions of the decision cells, the ``evidence.condition``
records of the passed tests, and where a test recorded none, the first
sentence of its docstring or, failing that, its name in words.
"""
from __future__ import annotations

import math
import re

#: A measured value within this relative distance of the paper's "agrees" (the paper prints 2-4 digits).
AGREEMENT_TOLERANCE = 0.05

#: Conditions named in a sentence; the card lists every one right below it.
SENTENCE_ITEMS = 2

_NUMBER = re.compile(r"^\s*(?:≈|~|about)?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)\s*$")


def _as_number(value) -> float | None:
    """A number, or text that is one number ("≈ 1", "0.53", "99.7%" read as 99.7); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        match = _NUMBER.match(value)
        return float(match.group(1)) if match else None
    return None


def compare(measured, paper) -> dict:
    """Does a measurement agree with the paper's value?

    Returns ``{"agreement": "agrees" | "disagrees" | "", "relative_difference": float | None}``:
    "" where the paper gives no value or the two cannot be compared (a formula beside a number).
    The relative difference is (measured − paper) / |paper|, signed.
    """
    if paper is None:
        return {"agreement": "", "relative_difference": None}
    m, p = _as_number(measured), _as_number(paper)
    if m is not None and p is not None:
        if p == 0:
            return {"agreement": "agrees" if abs(m) <= 1e-12 else "disagrees", "relative_difference": None}
        relative = (m - p) / abs(p)
        return {"agreement": "agrees" if abs(relative) <= AGREEMENT_TOLERANCE else "disagrees",
                "relative_difference": relative}
    if isinstance(measured, bool) and isinstance(paper, bool) or isinstance(measured, str) and isinstance(paper, str):
        return {"agreement": "agrees" if measured == paper else "disagrees", "relative_difference": None}
    return {"agreement": "", "relative_difference": None}


#: The end of a docstring's first sentence: ".", ";" or ":" and a space, but not the dot of the
#: paper's abbreviations ("eq. 5", "Prop. B.4", "Fig. 2", "App. C"), which would cut a reference in two.
_SENTENCE_END = re.compile(r"(?<![Ee]q\.)(?<!Prop\.)(?<!Fig\.)(?<!App\.)(?<=[.;:])\s")


def describe_test(test_name: str, docstring: str = "") -> str:
    """A test in words: the first sentence of its docstring, else its function name without ``test_``."""
    first = docstring.strip().split("\n\n")[0].replace("\n", " ")
    if first:
        sentence = _SENTENCE_END.split(first, maxsplit=1)[0].rstrip(".;:")
        return sentence
    name = test_name.split("::")[-1].split("[")[0].removeprefix("test_")
    return name.replace("_", " ")


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:SENTENCE_ITEMS])
    more = len(items) - SENTENCE_ITEMS
    return shown + (f" (and {more} more, listed below)" if more > 0 else "")


def verdict_sentence(verdict: str, sides: dict[str, list[str]], reasons: list[str], complete: bool = True) -> str:
    """The card's opening sentence.

    ``sides`` maps "supports", "refutes" and "inconclusive" to the conditions
    on that side (see ``sides`` in render); ``reasons`` are the verdict's
    reasons (used where no side explains the verdict: not-run, unexpected, ...).
    """
    supports, refutes = sides.get("supports", []), sides.get("refutes", [])
    void = sides.get("inconclusive", [])
    partial = "" if complete else " (partial: not every linked test ran or decided)"
    tail = f" Inconclusive: {_listed(void)}." if void and verdict in ("holds", "conditional", "refuted") else ""
    if verdict == "holds":
        return f"Holds{partial}.{tail}"
    if verdict == "conditional":
        return f"Holds when {_listed(supports)}, and fails when {_listed(refutes)}{partial}.{tail}"
    if verdict == "refuted":
        return f"Fails when {_listed(refutes)}; no tested condition supports it{partial}.{tail}"
    if verdict == "inconclusive":
        return f"Inconclusive because {_listed(void or reasons)}."
    if verdict == "unexpected":
        return f"Unexpected: the suite's own expectation broke ({_listed(reasons)})."
    if verdict == "not-run":
        return f"Not run in this run: {_listed(reasons)}."
    if verdict == "not-testable":
        return f"Not testable: {reasons[0] if reasons else 'no reason given'}"
    return "Not encoded: no test is linked to this claim yet."
