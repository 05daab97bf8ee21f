"""gdcut.ledger.registry: the shipped claims.toml against the claim inventory, and loader errors."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from gdcut.ledger import registry

ROOT = Path(__file__).resolve().parents[1]
# CI checks the repository out next to shared/ (the paper and the claim inventory).
CLAIMS_MD = ROOT.parent / "shared" / "CLAIMS.md"

ENTRY = """
[[claim]]
id = "{id}"
section = "{section}"
title = "a title"
summary = "what the paper says"
kind = "{kind}"
where = {{ v1 = "§1", v2 = "§2" }}
open_parameters = []
"""


def inventory_ids(markdown: str) -> list[str]:
    """Claim IDs of the inventory's tables: the first cell of each row, like `| L3 | ... |`."""
    return re.findall(r"^\|\s*([A-Z][0-9]+)\s*\|", markdown, flags=re.MULTILINE)


def write_registry(tmp_path: Path, *entries: dict, extra: str = "") -> Path:
    path = tmp_path / "claims.toml"
    text = "".join(ENTRY.format(**{"section": e["id"][0], "kind": "proposition", **e}) for e in entries)
    path.write_text(text + textwrap.dedent(extra), encoding="utf-8")
    return path


@pytest.mark.skipif(not CLAIMS_MD.is_file(), reason=f"claim inventory not found at {CLAIMS_MD}")
def test_shipped_registry_lists_every_inventory_id_in_order():
    ids = inventory_ids(CLAIMS_MD.read_text(encoding="utf-8"))
    assert len(ids) == len(set(ids)) > 0
    assert list(registry.registry()) == ids


def test_inventory_id_parser_reads_only_table_rows():
    markdown = "| ID | claim |\n| --- | --- |\n| S1 | a |\n|L12| b |\ntext S2 | c |\n"
    assert inventory_ids(markdown) == ["S1", "L12"]


def test_shipped_registry_entries_are_well_formed():
    claims = registry.registry()
    for claim_id, claim in claims.items():
        assert claim.id == claim_id and claim.id.startswith(claim.section)
        assert claim.kind in registry.KINDS
        assert claim.title and len(claim.title) <= 80, claim_id
        assert claim.where["v1"] or claim.where["v2"], claim_id
        assert (claim.kind == "context") or not claim.not_testable, claim_id


def test_paper_value_by_name_and_value_error_naming_known_values():
    claim = registry.claim("L3")
    assert claim.paper_value("first α") == 0.01
    assert claim.paper_value("β0 (each entry)") == 0.5053
    with pytest.raises(ValueError, match=r"L3 has no paper value 'no such value'.*'first α'"):
        claim.paper_value("no such value")


def test_unknown_claim_id_is_a_value_error():
    with pytest.raises(ValueError, match="claim_id 'Z99'"):
        registry.claim("Z99")


def test_loads_a_small_registry_in_file_order(tmp_path):
    path = write_registry(tmp_path, {"id": "L2"}, {"id": "C1", "kind": "simulation"}, extra="""
        [[claim.paper_values]]
        name = "learning rate"
        value = 0.5
        unit = "1"
    """)
    claims = registry.load_registry(path)
    assert list(claims) == ["L2", "C1"]
    assert claims["C1"].paper_value("learning rate") == 0.5
    assert claims["L2"].where == {"v1": "§1", "v2": "§2"}


def test_duplicate_id_is_rejected(tmp_path):
    path = write_registry(tmp_path, {"id": "L2"}, {"id": "L2"})
    with pytest.raises(ValueError, match="lists L2 twice"):
        registry.load_registry(path)


def test_unknown_kind_is_rejected(tmp_path):
    path = write_registry(tmp_path, {"id": "L2", "kind": "rumour"})
    with pytest.raises(ValueError, match=r"claim L2: kind must be one of .*'rumour'"):
        registry.load_registry(path)


@pytest.mark.parametrize("claim_id, section", [("L2", "C"), ("L2", "Q"), ("Q2", "Q")])
def test_section_must_be_known_and_match_the_id(tmp_path, claim_id, section):
    path = write_registry(tmp_path, {"id": claim_id, "section": section})
    with pytest.raises(ValueError, match=f"claim {claim_id}: section '{section}' does not match"):
        registry.load_registry(path)


def test_missing_fields_are_named(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text('[[claim]]\nid = "L2"\nsection = "L"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"'L2' lacks \['kind', 'summary', 'title', 'where'\]"):
        registry.load_registry(path)


def test_limit_marks_claims_about_a_limit_and_must_be_a_boolean(tmp_path):
    # ``extra`` lands in the last entry's table.
    claims = registry.load_registry(write_registry(tmp_path, {"id": "L3"}, {"id": "L2"}, extra="limit = true\n"))
    assert claims["L2"].limit and not claims["L3"].limit
    with pytest.raises(ValueError, match="L2: limit must be true or false"):
        registry.load_registry(write_registry(tmp_path, {"id": "L2"}, extra='limit = "yes"\n'))
    assert {c.id for c in registry.registry().values() if c.limit} == {"L2", "L4", "L5", "L6", "L14", "L18", "L19", "L20",
                                                                          "E1", "E5"}


def test_the_papers_numbers_that_follow_from_others_agree_with_them():
    """Paper values the paper derives from its other numbers, checked against them (registry typos show here)."""
    l6, l17, l18 = registry.claim("L6"), registry.claim("L17"), registry.claim("L18")
    assert l6.paper_value("penalty increase factor") == pytest.approx(
        l6.paper_value("large λ1") / l6.paper_value("small λ1"))
    for lam in (l17.paper_value("small λ1"), l17.paper_value("large λ1")):
        bound = l17.paper_value("P") * l17.paper_value("α") * lam  # B.4: Pαλ1 (RMSProp), Pαλ1² (NDGM)
        assert l17.paper_value(f"λ1={lam:g}: RMSProp loss bound") == pytest.approx(bound)
        assert l17.paper_value(f"λ1={lam:g}: NDGM loss bound") == pytest.approx(bound * lam)
    ratio = l18.paper_value("L1 norm ratio λ1=0.1 / λ1=0.001")
    assert ratio == pytest.approx(l18.paper_value("large λ1: final L1 norm") / l18.paper_value("small λ1: final L1 norm"),
                                  abs=0.005)
    assert ratio > l18.paper_value("L1 norm ratio (more than)")
    # v1 App. B and v2 App. C share the threshold and the batch; the suite reads v2's
    assert l18.paper_value("small-weight threshold") == registry.claim("L20").paper_value("small-weight threshold")
    assert l18.paper_value("batch size") == registry.claim("L19").paper_value("batch size")
