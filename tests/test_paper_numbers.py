"""``claims.toml`` is the single source of the paper's numbers.

The checks read the source of ``claims/``, ``gdcut/`` and ``tests/`` as Python
syntax trees (nothing is imported or run), so they cover the deep-net modules
too; literal copies are looked for in ``claims/`` and ``gdcut/`` only.

**Read by name.** A registry entry is read where code names it: the ``paper=``
of ``evidence.measure`` (a string, an f-string read as a pattern, or a module
constant holding such strings) and the argument of ``paper_value`` /
``paper_entry``, or of a module function that passes its first argument on
to them (``worked_example(name)``). The claim is the one of ``claim("ID")`` before
``.paper_value``, else the ``claim=`` keyword, else the claim markers of the
enclosing test; where none can be told (a helper), a name counts for every
claim. Every *number* in the registry must be read somewhere, with no
exemptions: it is a value a measurement or a check is compared with (the
premise that an instance has the paper's shape, a bound an assertion holds
the run to, the level of a decision rule) or a setting the code uses (a
problem builder's default size, a step count), and one nobody reads is a copy
waiting to drift. Statements and formulas (strings) are shown on the claim's
card and need be read only where a measurement compares with them. A value the
paper prints that nothing runs or compares with is a quotation, so it is a
string: L19's "λ1 = 0.0002" of the §4 text, a misprint of Fig. 3's 0.002 that
the suite records only as a discrepancy on the card.

**No literal copies.** A number literal in the code duplicates a paper number
when it equals a registry number and

1. it is written in a ``paper=`` argument (the argument must name an entry), or
2. it is bound to a module constant that says it is the paper's: ``PAPER`` in
   its name, or a comment on its lines or a ``#:`` comment above it citing a
   place in the paper (v1/v2, §, eq., Fig., Table, App., Prop), or
3. it is a float, or a ``Fraction(a, b)`` of two integers, with at least three
   significant digits (0.5053, 25.4, 99.89): values that precise are not
   ordinary settings.

Ordinary settings (step sizes like 0.01, seeds, sample sizes, margins) are
not flagged unless rule 1 or 2 says they are the paper's; booleans are never
numbers here.
"""
from __future__ import annotations

import ast
import io
import math
import re
import textwrap
import tokenize
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from pathlib import Path

import pytest

from gdcut.ledger.registry import Claim, PaperValue, registry

ROOT = Path(__file__).resolve().parents[1]
CITES_THE_PAPER = re.compile(r"\bv[12]\b|§|\beq\.|\bFig\.|\bTable\b|\bApp\.|\bProp\b")


@dataclass(frozen=True)
class Reference:
    """A place that reads a paper value: the claims it may belong to (empty: any) and the name as a pattern."""
    claims: frozenset
    pattern: re.Pattern
    where: str


@dataclass(frozen=True)
class Copy:
    value: float
    where: str
    why: str


def _pattern(node: ast.expr) -> re.Pattern | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value))
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
        return re.compile("".join(parts))
    return None


def _strings(node: ast.AST, constants: dict[str, ast.expr]) -> list[re.Pattern]:
    """Name patterns an expression can evaluate to: its strings, through module constants it uses."""
    found = [p for p in [_pattern(node)] if p]
    if found:
        return found
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id in constants:
            found += _strings(constants[child.id], {})
        elif child is not node and (pattern := _pattern(child)):
            found.append(pattern)
    return found


def _claim_markers(function: ast.FunctionDef) -> set[str]:
    ids = set()
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "claim" and decorator.args
                and isinstance(decorator.args[0], ast.Constant)):
            ids.add(decorator.args[0].value)
    return ids


def _receiver_claim(call: ast.Call) -> frozenset:
    """The claim of ``claim("ID").paper_value(...)``; empty where the receiver names none."""
    receiver = call.func.value
    if isinstance(receiver, ast.Call) and receiver.args and isinstance(receiver.args[0], ast.Constant):
        return frozenset([receiver.args[0].value])
    return frozenset()


def _readers(tree: ast.Module) -> dict[str, frozenset]:
    """Module functions that pass their first parameter to ``paper_value``: name → the claim they read."""
    readers = {}
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and function.args.args:
            first = function.args.args[0].arg
            for call in ast.walk(function):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in ("paper_value", "paper_entry") and call.args
                        and isinstance(call.args[0], ast.Name) and call.args[0].id == first):
                    readers[function.name] = _receiver_claim(call)
    return readers


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _number(node: ast.expr) -> float | None:
    """The value of a number literal (or −literal, or Fraction(a, b) of two int literals); None otherwise."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("F", "Fraction")
            and len(node.args) == 2 and all(isinstance(a, ast.Constant) and type(a.value) is int for a in node.args)):
        return Fraction(node.args[0].value, node.args[1].value)
    return None


def significant_digits(value) -> int:
    if isinstance(value, Fraction):
        value = float(value)
    mantissa = repr(abs(float(value))).split("e")[0].replace(".", "").strip("0")
    return len(mantissa)


def _comments(source: str) -> dict[int, str]:
    lines = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            lines[token.start[0]] = token.string
    return lines


def scan(source: str, where: str, numbers: set[float]) -> tuple[list[Reference], list[Copy]]:
    """References to paper values and literal copies of paper numbers in one module's source."""
    tree = ast.parse(source)
    comments = _comments(source)
    constants = {target.id: statement.value for statement in tree.body if isinstance(statement, ast.Assign)
                 for target in statement.targets if isinstance(target, ast.Name)}
    references: list[Reference] = []
    copies: list[Copy] = []
    readers = _readers(tree)

    def visit(node: ast.AST, claims: frozenset) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            claims = frozenset(_claim_markers(node)) or claims
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            line = f"{where}:{node.lineno}"
            if node.func.attr == "measure" and (paper := _keyword(node, "paper")) is not None:
                own = _keyword(node, "claim")
                scope = frozenset([own.value]) if isinstance(own, ast.Constant) else claims
                names = _strings(paper, constants)
                references.extend(Reference(scope, p, line) for p in names)
                if not names:  # not a name: any number in it is a copy
                    copies.extend(Copy(v, line, "a number written as paper=") for child in ast.walk(paper)
                                  if (v := _number(child)) is not None)
            if node.func.attr in ("paper_value", "paper_entry") and node.args:
                scope = _receiver_claim(node) or claims
                references.extend(Reference(scope, p, line) for p in _strings(node.args[0], constants))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in readers and node.args:
            scope = readers[node.func.id] or claims
            references.extend(Reference(scope, p, f"{where}:{node.lineno}") for p in _strings(node.args[0], constants))
        value = _number(node) if isinstance(node, (ast.Constant, ast.Call)) else None
        if value is not None and type(value) is not int and float(value) in numbers and significant_digits(value) >= 3:
            copies.append(Copy(value, f"{where}:{node.lineno}", "a precise number equal to a paper number"))
        for child in ast.iter_child_nodes(node):
            visit(child, claims)

    visit(tree, frozenset())
    for statement in tree.body:
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = " ".join(t.id for t in targets if isinstance(t, ast.Name))
        notes = [comments.get(n, "") for n in range(statement.lineno, statement.end_lineno + 1)]
        above = statement.lineno - 1
        while comments.get(above, "").startswith("#:"):
            notes.append(comments[above])
            above -= 1
        if "PAPER" in names or any(CITES_THE_PAPER.search(note) for note in notes):
            for child in ast.walk(statement.value) if statement.value else ():
                if (v := _number(child)) is not None and v in numbers:
                    copies.append(Copy(v, f"{where}:{statement.lineno}", f"the paper's constant {names}"))
    return references, copies


def registry_numbers(claims: dict[str, Claim]) -> set[float]:
    return {entry.value for claim in claims.values() for entry in claim.paper_values
            if isinstance(entry.value, Real) and not isinstance(entry.value, bool) and math.isfinite(entry.value)}


def unread(claims: dict[str, Claim], references: list[Reference]) -> list[str]:
    """Registry numbers that no reference reads, as "ID: name"."""
    missing = []
    for claim in claims.values():
        for entry in claim.paper_values:
            if not isinstance(entry.value, Real) or isinstance(entry.value, bool):
                continue
            if not any((not r.claims or claim.id in r.claims) and r.pattern.fullmatch(entry.name) for r in references):
                missing.append(f"{claim.id}: {entry.name!r}")
    return missing


def scan_tree(numbers: set[float]) -> tuple[list[Reference], list[Copy]]:
    """References in claims/, gdcut/ and tests/; copies in claims/ and gdcut/ (tests plant literals on purpose)."""
    references, copies = [], []
    for path in sorted([*ROOT.joinpath("claims").glob("*.py"), *ROOT.joinpath("gdcut").rglob("*.py"),
                        *ROOT.joinpath("tests").glob("test_*.py")]):
        found, copied = scan(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), numbers)
        references += found
        copies += copied if path.parent.name != "tests" else []
    return references, copies


def test_every_registry_number_is_read_by_name():
    claims = registry()
    references, _ = scan_tree(registry_numbers(claims))
    assert unread(claims, references) == [], "registry numbers that nothing reads by name"


def test_every_measurement_says_which_paper_value_it_is_compared_with():
    """``paper=`` is required at run time; this finds a call without it in modules that a fast run skips."""
    missing = [f"{path.relative_to(ROOT)}:{node.lineno}"
               for path in sorted([*ROOT.joinpath("claims").glob("*.py"), *ROOT.joinpath("gdcut").rglob("*.py")])
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "measure"
               and _keyword(node, "paper") is None]
    assert missing == []


def test_no_literal_in_claims_or_gdcut_copies_a_paper_number():
    _, copies = scan_tree(registry_numbers(registry()))
    assert [f"{c.where}: {c.value} ({c.why})" for c in copies] == []


# --------------------------------------------------------------------------- each check can fail
PLANTED = textwrap.dedent('''
    import pytest
    from gdcut.ledger.registry import claim

    THRESHOLD = 1e-5  # v2 Table 2
    PAPER_RATE = 0.01
    STEP = 0.01  # our own step size: not flagged

    #: Fig. 5's λ1 values
    FIG5 = (0.001, 100.0)

    @pytest.mark.claim("L3")
    def test_planted(evidence):
        start = 0.5053
        evidence.measure("upper point", measured, paper=0.0053)
        evidence.measure("lower point", measured, paper="λ1=1: oscillation lower point (each entry)")
        evidence.measure(f"λ1={1}: L1 norm", measured, paper=f"λ1={1}: L1 norm at most", claim="L3")
        claim("L6").paper_value("large λ1")
''')


def _planted_registry() -> dict[str, Claim]:
    def claim(claim_id, *values):
        return Claim(claim_id, claim_id[0], "t", "s", "proposition", {"v1": "§1", "v2": ""},
                     tuple(PaperValue(name, value) for name, value in values))
    return {"L3": claim("L3", ("upper point", 0.0053), ("λ1=1: oscillation lower point (each entry)", -0.0047),
                        ("λ1=1: L1 norm at most", 0.0106), ("β0 (each entry)", 0.5053), ("small λ1", 1)),
            "L6": claim("L6", ("large λ1", 10), ("small λ1", 0.01), ("formula", "Pαλ1")),
            "L20": claim("L20", ("small-weight threshold", 1e-5)),
            "L16": claim("L16", ("small λ1", 0.001), ("large λ1", 100))}


def test_the_unread_check_names_each_number_no_one_reads():
    claims = _planted_registry()
    references, _ = scan(PLANTED, "planted.py", registry_numbers(claims))
    # read: L3's lower point (string), L1 norm (f-string pattern) and L6's large λ1 (paper_value on claim("L6"));
    # L3's "upper point" is compared with a literal, not read; L6's "small λ1" is not read although L3's namesake
    # is not either; L6's formula is a string, which need not be read.
    assert unread(claims, references) == ["L3: 'upper point'", "L3: 'β0 (each entry)'", "L3: 'small λ1'",
                                          "L6: 'small λ1'", "L20: 'small-weight threshold'",
                                          "L16: 'small λ1'", "L16: 'large λ1'"]


def test_the_copy_check_flags_paper_literals_but_not_settings():
    _, copies = scan(PLANTED, "planted.py", registry_numbers(_planted_registry()))
    flagged = {(c.where, c.value, c.why) for c in copies}
    assert flagged == {
        ("planted.py:5", 1e-5, "the paper's constant THRESHOLD"),
        ("planted.py:6", 0.01, "the paper's constant PAPER_RATE"),
        ("planted.py:10", 0.001, "the paper's constant FIG5"),
        ("planted.py:10", 100.0, "the paper's constant FIG5"),
        ("planted.py:14", 0.5053, "a precise number equal to a paper number"),
        ("planted.py:15", 0.0053, "a number written as paper="),
    }  # STEP = 0.01 (line 7) and the measured values are settings and measurements, not copies


def test_significant_digits_tell_precise_numbers_from_round_settings():
    assert [significant_digits(v) for v in (0.01, 1e-5, 100.0, 0.5053, 25.4, 99.89, Fraction(53, 10000))] == \
        [1, 1, 1, 4, 3, 4, 2]


def test_measure_reads_the_paper_value_by_name_and_rejects_unknown_names():
    from gdcut.ledger.evidence import RECORD_KEY, Evidence

    properties: list = []
    evidence = Evidence(properties, ["L3"], registry())
    evidence.measure("λ1=1: L1 norm at most", 0.0106, paper="λ1=1: L1 norm at most")
    evidence.measure("a quantity the paper does not give", 1.0, paper=None)
    [(key, first), (_, second)] = properties
    assert key == RECORD_KEY
    assert (first["paper"], first["paper_where"]) == (0.0106, "v1 §3 / v2 §4")
    assert (second["paper"], second["paper_where"]) == (None, "")
    with pytest.raises(ValueError, match=r"paper: claim L3 has no paper value 'L1 norm'; known: .*'first α'"):
        evidence.measure("L1 norm", 0.0106, paper="L1 norm")
    with pytest.raises(TypeError):
        evidence.measure("no paper argument", 1.0)
