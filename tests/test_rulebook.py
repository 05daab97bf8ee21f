"""The rulebook end to end: one planted case per rule, through the plugin, the registry and the ledger.

Each case plants a test that would decide the claim without the rule and checks
that the ledger does not let it (issue 18's measures). The source checks below
keep the rules from being bypassed in ``claims/``: a premise is computed, never
a literal, and every phrase of the paper that decides a threshold is in the
one table ``gdcut.rules.PAPER_WORDS``, printed in ``docs/rulebook.md``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gdcut import rules
from gdcut.ledger.evidence import Evidence
from gdcut.ledger.registry import registry
from tests.test_ledger_plugin import REGISTRY, Project, registry_toml

ROOT = Path(__file__).resolve().parents[1]

#: S1 is universal over a start it leaves open, S2 the same claim read existentially, S3 a limit claim,
#: C1 an exact proposition; the rest of the test registry as in test_ledger_plugin.
DECLARATIONS = {
    "S1": 'open_parameters = [{ name = "start", natural = ["0", "small"], sweep = "0, small, U[-1,1]" }]',
    "S2": 'quantifier = "existential"\n'
          'open_parameters = [{ name = "start", natural = ["0", "small"], sweep = "0, small, U[-1,1]" }]',
    "S3": "limit = true\nopen_parameters = []",
}

PLANTED = """
import pytest

@pytest.mark.claim("S1", refutes=True)
def test_refutation_at_one_start(evidence):
    evidence.swept("start", ["U[-1,1]"])

@pytest.mark.claim("S1")
def test_support_at_one_start(evidence):
    evidence.swept("start", ["U[-1,1]"])

@pytest.mark.claim("S2")
def test_existential_support_in_the_paper_setting(evidence):
    evidence.swept("start", ["U[-1,1]"])

@pytest.mark.claim("S2", refutes=True)
def test_existential_refutation_swept(evidence):
    evidence.swept("start", ["0", "small", "U[-1,1]"])

@pytest.mark.claim("S3")
def test_uncertified_support_of_a_limit(evidence):
    pass

@pytest.mark.claim("C1")
def test_support_on_a_rising_loss(evidence):
    losses = [3.0, 2.0, 2.5]
    evidence.premise("the loss decreases at every step", all(b < a for a, b in zip(losses, losses[1:])))

@pytest.mark.claim("C2", refutes=True)
def test_refutation_at_the_ceiling(evidence):
    evidence.statistic("oscillation period", 2, floor=2, ceiling=1000)

@pytest.mark.claim("C3")
def test_exact_reading(evidence):
    evidence.arithmetic("exact")

@pytest.mark.claim("C3", refutes=True)
def test_float32_reading(evidence):
    evidence.arithmetic("float32")
"""


#: (claim, planted test, what it must count as, the claim's verdict, a phrase its reasons must hold), one per rule.
EXPECTED = (
    ("S1", "test_refutation_at_one_start", "inconclusive", "inconclusive", "start (natural defaults 0, small)"),
    ("S1", "test_support_at_one_start", "inconclusive", "inconclusive", "not swept"),
    ("S2", "test_existential_support_in_the_paper_setting", "supports", "conditional", ""),
    ("S2", "test_existential_refutation_swept", "refutes", "conditional", ""),
    ("S3", "test_uncertified_support_of_a_limit", "inconclusive", "inconclusive", "without a convergence certificate"),
    ("C1", "test_support_on_a_rising_loss", "void", "inconclusive", "outside the premise"),
    ("C2", "test_refutation_at_the_ceiling", "void", "inconclusive", "at its floor 2"),
    ("C3", "test_float32_reading", "reading", "holds", "a second reading in float32"),
)


def test_each_rule_on_its_planted_case(pytester: pytest.Pytester):
    """One run of the planted tests: a refutation without its sweep, a universal claim's support at one
    start, an existential claim, an uncertified limit, a run outside a computed premise, a statistic at
    its floor, and a proposition that fails only in float32."""
    project = Project(pytester)
    toml = registry_toml(REGISTRY)
    for claim_id, lines in DECLARATIONS.items():
        toml = toml.replace(f'id = "{claim_id}"', f'id = "{claim_id}"\n{lines}')
    (project.root / "registry.toml").write_text(_one_declaration_each(toml), encoding="utf-8")
    project.claims_module("test_planted", PLANTED)
    project.run("claims").assert_outcomes(passed=9)
    cards = project.claims()
    for claim_id, test, counts_as, verdict, phrase in EXPECTED:
        card = cards[claim_id]
        counted = next(t["counts_as"] for t in card["tests"] if t["nodeid"].endswith(test))
        assert (counted, card["verdict"]) == (counts_as, verdict), test
        assert not phrase or any(phrase in r for r in card["verdict_reasons"]), (test, card["verdict_reasons"])


def _one_declaration_each(toml: str) -> str:
    """Drop the default ``open_parameters = []`` of blocks that now declare their own."""
    blocks = toml.split("[[claim]]")
    return "[[claim]]".join(b.replace("open_parameters = []\n", "", 1) if b.count("open_parameters") > 1 else b
                            for b in blocks)


# --------------------------------------------------------------------------- the evidence API
def test_evidence_rejects_undeclared_parameters_bad_sweeps_ranges_and_arithmetic():
    evidence = Evidence([], ["E3"], registry())
    declared = [p.name for p in registry()["E3"].open_parameters]
    bad = [(lambda: evidence.swept("no such parameter", ["a", "b"]), "parameter"),
           (lambda: evidence.independent_of("no such parameter", "closed form"), "parameter"),
           (lambda: evidence.statistic("period", 3, 5, 1), "floor"),
           (lambda: evidence.statistic("period", float("nan"), 0, 1), "value"),
           (lambda: evidence.arithmetic("float8"), "kind"),
           (lambda: evidence.arithmetic("float64", error_bound=1e-12), "margin"),
           (lambda: evidence.premise("p", True, cell=3), "cell"),
           (lambda: evidence.measure("m", 1.0, paper=None, reading="yes"), "reading"),
           (lambda: evidence.measure("m", 1.0, paper=None, reading=True, cell="c"), "reading")]
    if declared:
        bad.append((lambda: evidence.swept(declared[0], []), "values"))
    for call, argument in bad:
        with pytest.raises(ValueError, match=argument):
            call()


# --------------------------------------------------------------------------- source checks
def _calls(name: str):
    """Every call of ``evidence.<name>`` in claims/, with its file and line."""
    for path in sorted((ROOT / "claims").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "evidence"):
                yield path.name, node


def test_every_premise_in_the_claims_is_computed_from_the_run_never_a_literal():
    literal = []
    for file, call in _calls("premise"):
        holds = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "holds"), None)
        if isinstance(holds, ast.Constant):
            literal.append(f"{file}:{call.lineno}")
    assert not literal, f"premises written as constants (compute them from the run): {literal}"


def test_the_rulebook_document_prints_the_table_of_the_papers_words():
    text = (ROOT / "docs" / "rulebook.md").read_text(encoding="utf-8")
    for wording in rules.PAPER_WORDS.values():
        assert f"| {wording.words} | {wording.meaning} |" in text, wording.words


def test_unknown_words_are_a_clear_error():
    with pytest.raises(ValueError, match="words 'usually'"):
        rules.by_words("usually")


def test_every_claim_whose_summary_says_not_stated_declares_what_is_open():
    """Rule 5 is checked, not remembered: where claims.toml says a parameter is 'not stated', it is declared."""
    undeclared = [c.id for c in registry().values()
                  if any("not stated" in str(text) for text in (c.summary, *(v.value for v in c.paper_values)))
                  and not c.open_parameters]
    assert not undeclared, f"claims that leave a parameter 'not stated' but declare no open_parameters: {undeclared}"
