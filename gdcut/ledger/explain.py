"""What a reader sees first on a card: the verdict in one sentence, and agreement with the paper.

Pure functions of plain ledger data, so the wording can be read and tested on
its own.  A conditional claim's sentence names both sides, taken from what the
run recorded: the conditions of the decision cells and the ``evidence.condition``
records of the passed tests.  A test that recorded no condition is described
by ``UNSTATED``, never by its docstring or its name: those are written for
programmers, and a sentence assembled from them reads like test metadata.
"""
from __future__ import annotations

import math
import re

#: A measured value within this relative distance of the paper's "agrees" (the paper prints 2-4 digits).
AGREEMENT_TOLERANCE = 0.05

#: Conditions named in a sentence; the card lists every one right below it.
SENTENCE_ITEMS = 2

#: How a test that recorded no condition is described on its side: it tested the claim as stated,
#: or (a refuting test) on the counterexample it asserts.
UNSTATED = "tested as the paper states it"
UNSTATED_REFUTING = "tested on a counterexample"

_NUM = r"[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?"
_NUMBER = re.compile(rf"^\s*(?:≈|~|about)?\s*({_NUM})\s*%?\s*$")
#: "12 of 100": a count out of a total, compared by its count.
_COUNT = re.compile(rf"^\s*({_NUM})\s+of\s+{_NUM}\s*$")
#: A number followed by a remark in parentheses: "0 (probability 1)".
_REMARK = re.compile(rf"^\s*({_NUM})\s*\([^()]*\)\s*$")
#: A bound, possibly naming its number first and possibly in parentheses after a word:
#: "< 1", "≥ 0", "at most 2", "< αλ1 = 0.01", "bounded (≤ 1)".
_BOUND = re.compile(rf"^(?:[^()]*\()?\s*(<=|>=|<|≤|>|≥|at most|at least|more than|less than|below|above)"
                    rf"\s*(?:[^=()<>≤≥]*=\s*)?({_NUM})\s*\)?\s*$")
#: A range with numeric ends, after "∈" or alone: "∈ [0, 2]", "∈ ∂f(0) = [0, 2]", "(0, 1]".
_RANGE = re.compile(rf"^(?:∈[^=]*=\s*|∈\s*)?([\[(])\s*({_NUM})\s*,\s*({_NUM})\s*([\])])\s*$")
_OPERATORS = {"<": "<", "less than": "<", "below": "<", "<=": "≤", "≤": "≤", "at most": "≤",
              ">": ">", "more than": ">", "above": ">", ">=": "≥", "≥": "≥", "at least": "≥"}


def _float(text: str) -> float:
    return float(text.replace("−", "-"))


def _as_number(value) -> float | None:
    """A number, or text that is one ("≈ 1", "0.53", "99.7%" read as 99.7, "12 of 100" as 12); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        match = _NUMBER.match(value) or _COUNT.match(value)
        if match:
            return _float(match.group(1))
    return None


def criterion(paper) -> dict | None:
    """What the paper's value asks of a measurement, or None when it is a statement in words.

    ``kind`` is ``equal`` (a number, "≈ 1", "0 (probability 1)": ``value``; ``exact`` when the paper
    says "probability 1", which no share short of it meets), ``bound``
    (``operator`` one of <, ≤, >, ≥ and ``value``) or ``range`` (``low``, ``high``, and
    whether each end is closed); ``text`` says it for the card.
    """
    if isinstance(paper, bool) or paper is None:
        return None
    number = _as_number(paper)
    if number is None and isinstance(paper, str) and _REMARK.match(paper):
        number = _float(_REMARK.match(paper).group(1))
        if "probability 1" in paper:  # "with probability 1" admits no share short of it: read exactly
            return {"kind": "equal", "value": number, "exact": True, "text": f"exactly {number:g} (probability 1)"}
    if number is not None:
        text = f"≈ {number:g} (within {AGREEMENT_TOLERANCE:.0%})" if number else "0"
        return {"kind": "equal", "value": number, "text": text}
    if not isinstance(paper, str):
        return None
    bound = _BOUND.match(paper.strip())
    if bound:
        operator, value = _OPERATORS[bound.group(1)], _float(bound.group(2))
        return {"kind": "bound", "operator": operator, "value": value, "text": f"{operator} {value:g}"}
    interval = _RANGE.match(paper.strip())
    if interval and _float(interval.group(2)) <= _float(interval.group(3)):
        low, high = _float(interval.group(2)), _float(interval.group(3))
        return {"kind": "range", "low": low, "high": high, "low_closed": interval.group(1) == "[",
                "high_closed": interval.group(4) == "]",
                "text": f"∈ {interval.group(1)}{low:g}, {high:g}{interval.group(4)}"}
    return None


def _meets(m: float, rule: dict) -> bool:
    if rule["kind"] == "bound":
        value = rule["value"]
        return {"<": m < value, "≤": m <= value, ">": m > value, "≥": m >= value}[rule["operator"]]
    above = m >= rule["low"] if rule["low_closed"] else m > rule["low"]
    below = m <= rule["high"] if rule["high_closed"] else m < rule["high"]
    return above and below


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def compare(measured, paper) -> dict:
    """Does a measurement agree with the paper's value?

    Returns ``{"agreement": "agrees" | "disagrees" | "", "relative_difference": float | None,
    "criterion": str}``. A number is read against a number (within 5%), a bound (<, ≤, >, ≥,
    "at least", "at most": exactly) or a range (∈ [a, b]); a count "k of n" by its k. Text
    agrees with the same text. "" where the paper gives no value, or states in words what no
    single measurement can be read against ("bounded", "O(1/ε)", "can increase"): the card
    then reads the row by the test that recorded it. ``relative_difference`` is
    (measured − paper) / |paper|, signed; for a bound, against the bound's value.
    """
    none = {"agreement": "", "relative_difference": None, "criterion": ""}
    if paper is None:
        return none
    rule = criterion(paper)
    m = _as_number(measured)
    if rule is not None and m is not None:
        if rule["kind"] == "equal":
            p = rule["value"]
            if p == 0:
                return {"agreement": "agrees" if abs(m) <= 1e-12 else "disagrees", "relative_difference": None,
                        "criterion": rule["text"]}
            relative = (m - p) / abs(p)
            tolerance = 0.0 if rule.get("exact") else AGREEMENT_TOLERANCE
            return {"agreement": "agrees" if abs(relative) <= tolerance else "disagrees",
                    "relative_difference": relative, "criterion": rule["text"]}
        reference = rule["value"] if rule["kind"] == "bound" else None
        return {"agreement": "agrees" if _meets(m, rule) else "disagrees",
                "relative_difference": (m - reference) / abs(reference) if reference else None,
                "criterion": rule["text"]}
    if isinstance(measured, bool) and isinstance(paper, bool):
        return {"agreement": "agrees" if measured == paper else "disagrees", "relative_difference": None,
                "criterion": "the same answer"}
    if isinstance(measured, str) and isinstance(paper, str) and _normalised(measured) == _normalised(paper):
        return {"agreement": "agrees", "relative_difference": None, "criterion": "the same statement"}
    return none


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:SENTENCE_ITEMS])
    more = len(items) - SENTENCE_ITEMS
    return shown + (f" (and {more} more, listed below)" if more > 0 else "")


def partial_phrase(unrun: int, inconclusive: int = 0, void: int = 0, collection_known: bool = True) -> str:
    """What leaves a verdict partial, counted: ``unrun`` tests that did not run, ``inconclusive`` and ``void``
    cells that could not speak, and a run that cannot say what it collected. Empty when nothing does."""
    def counted(n: int, one: str, many: str) -> str:
        return one if n == 1 else many.format(n=n)

    parts = []
    if not collection_known:
        parts.append("the run stopped before its workers said which tests they collected")
    if unrun:
        parts.append(f"{unrun} of its tests did not run")
    if inconclusive:
        parts.append(counted(inconclusive, "1 cell was inconclusive", "{n} cells were inconclusive"))
    if void:
        parts.append(counted(void, "1 cell was void (outside its premise or at a bound)",
                             "{n} cells were void (outside their premise or at a bound)"))
    return "; ".join(parts)


def verdict_sentence(verdict: str, sides: dict[str, list[str]], reasons: list[str], partial: str = "") -> str:
    """The card's opening sentence.

    ``sides`` maps "supports", "refutes", "inconclusive" and "aside" (counts for
    nothing) to the conditions on that side (see ``_sides`` in render); ``reasons``
    are the verdict's reasons (used where no side explains the verdict: not-run,
    unexpected, ...); ``partial`` what leaves a decided verdict partial
    (``partial_phrase``), said in its sentence.
    """
    supports, refutes = sides.get("supports", []), sides.get("refutes", [])
    void = sides.get("inconclusive", [])
    aside = sides.get("aside", [])
    partial = f" (partial: {partial}, listed below)" if partial else ""
    tail = f" Inconclusive: {_listed(void)}." if void and verdict in ("holds", "conditional", "refuted") else ""
    if verdict == "holds":
        return f"Holds when {_listed(supports)}{partial}.{tail}" if supports else f"Holds{partial}.{tail}"
    if verdict == "conditional":
        return f"Holds when {_listed(supports)}, and fails when {_listed(refutes)}{partial}.{tail}"
    if verdict == "refuted":
        return f"Fails when {_listed(refutes)}; no tested condition supports it{partial}.{tail}"
    if verdict == "inconclusive":
        return f"Inconclusive because {_listed(void + aside or reasons)}."
    if verdict == "unexpected":
        return f"Unexpected: the suite's own expectation broke ({_listed(reasons)})."
    if verdict == "not-run":
        return f"Not run in this run: {_listed(reasons)}."
    if verdict == "not-testable":
        return f"Not testable: {reasons[0] if reasons else 'no reason given'}"
    return "Not encoded: no test is linked to this claim yet."


# --------------------------------------------------------------------------- the reader's check
#: Names a reader meets capitalised, and their lower-case spellings as code writes them.
NAMES = {"rmsprop": "RMSProp", "sgd": "SGD", "adam": "Adam", "ndgm": "NDGM", "relu": "ReLU", "gelu": "GELU",
         "lasso": "LASSO", "huber": "Huber", "ista": "ISTA", "cifar": "CIFAR", "vgg": "VGG", "mnist": "MNIST"}
#: Capitalised words that may follow "when": names, not the start of a pasted sentence.
PROPER_NAMES = frozenset({"Adam", "Huber", "Fashion", "Euclidean", "Lipschitz", "Bertsekas", "Boyd", "Ma", "Kumar",
                          "Gaussian", "Hypothesis", "Prop", "Fig", "Table", "App"})
_SNAKE = re.compile(r"(?<![\w.])[a-z]{2,}(?:_[a-z0-9]{2,})+\b")
_TEST_NAME = re.compile(r"\btest_\w+|::|\w\.py\b|\b(?:eq|prop|fig|sec|app|thm)\d")
_AFTER_WHEN = re.compile(r"\bwhen\s+([A-Z][a-z]*)\b")
_LOWER_NAME = re.compile(r"(?<![\w.])(" + "|".join(NAMES) + r")\d*\b")
#: "L: ℓ2 Lipschitz constant": a symbol and its definition, not a condition.
_DEFINITION = re.compile(r"(?:^|;\s*)(?!v[12]:)[^\W\d_][\d₀-₉]?:\s")  # "v1:", "v2:" name the paper's versions


def reader_problems(text: str) -> list[str]:
    """What in a sentence or a side of a card reads like test metadata rather than the paper reader's words.

    snake_case words and test names ("test_x", "eq9", "::"); a capitalised word after
    "when" that is no name (a pasted docstring: "when The Huber loss ..."); the
    lower-case spelling of a name (rmsprop, sgd); a definition ("L: ℓ2 Lipschitz constant").
    A code name qualified by its module (``torch.relu``) is left alone.
    """
    problems = [f"snake_case word {m.group(0)!r}" for m in _SNAKE.finditer(text)]
    problems += [f"test name {m.group(0)!r}" for m in _TEST_NAME.finditer(text)]
    problems += [f"capitalised {m.group(1)!r} after 'when'" for m in _AFTER_WHEN.finditer(text)
                 if m.group(1) not in PROPER_NAMES and len(m.group(1)) > 1 or m.group(1) == "A"]
    problems += [f"lower-case {m.group(0)!r} (write {NAMES[m.group(1)]})" for m in _LOWER_NAME.finditer(text)]
    problems += [f"a definition, not a condition: {text[m.end() - 8 if m.end() > 8 else 0:m.end() + 20]!r}"
                 for m in _DEFINITION.finditer(text)]
    return problems


def card_reading_problems(card: dict) -> list[str]:
    """``reader_problems`` of a card's first sentence and every side, and sides that say the same on both."""
    texts = [("sentence", card.get("sentence", ""))]
    texts += [(side, text) for side, items in card.get("sides", {}).items() for text in items]
    problems = [f"{card['id']} {where}: {problem} in {text[:90]!r}" for where, text in texts
                for problem in reader_problems(text)]
    sides = card.get("sides", {})
    both = set(sides.get("supports", [])) & set(sides.get("refutes", []))
    problems += [f"{card['id']}: {text!r} is on both sides" for text in sorted(both)]
    if sides.get("supports") and sides.get("refutes") and \
            set(sides["supports"]) | set(sides["refutes"]) <= {UNSTATED, UNSTATED_REFUTING}:
        problems.append(f"{card['id']}: neither side names a condition (the tests record none)")
    return problems
