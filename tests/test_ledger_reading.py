"""The reader's side of the ledger as pure functions: sentences, agreement, the reading check, the summary, the
cost, rule digests, merged records, carried cards, colours."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gdcut.ledger import carry, explain, preregistration, render, summary
from gdcut.ledger.render import format_value, unique_records, verdict_history

TEMPLATE = Path(__file__).resolve().parents[1] / "gdcut" / "ledger" / "ledger.html.j2"


@pytest.mark.parametrize(("measured", "paper", "agreement", "relative"), [
    (25.28, 25.4, "agrees", (25.28 - 25.4) / 25.4),
    (0.5, 1.0, "disagrees", -0.5),
    (0.0, 0.0, "agrees", None),
    (0.1, "≈ 1", "disagrees", -0.9),
    ("y ≤ 0", "y ≤ 0", "agrees", None),
    (1.0, "convergent geometric series", "", None),
    (1.0, None, "", None),
    (True, True, "agrees", None),
    # bounds and ranges, in the paper's notations
    (0.0106, "< αλ1 = 0.01", "disagrees", 0.06),
    (2.23, "< 1", "disagrees", 1.23),
    (0.99, "bounded (≤ 1)", "agrees", -0.01),
    (0.18, "> 0", "agrees", None),
    (13.7, "> 15", "disagrees", (13.7 - 15) / 15),
    (2, "at least 2", "agrees", 0.0),
    (3, "at most 2", "disagrees", 0.5),
    (-0.5, "∈ ∂f(0) = [0, 2]", "disagrees", None),
    (1.0, "(0, 1]", "agrees", None),
    (1.0, "(0, 1)", "disagrees", None),
    # counts are read by their count; a remark after a number does not hide it
    ("0 of 5000", "0 (probability 1)", "agrees", None),
    ("2198 of 2500", "0 (probability 1)", "disagrees", None),
    # "with probability 1" is met by all, not by 99.9%
    (0.99899, "1 (probability 1)", "disagrees", 0.99899 - 1),
    (1.0, "1 (probability 1)", "agrees", 0.0),
    # statements no number can be read against are left to the test that recorded the row
    ("16 of 16", "not shown", "", None),
    (3.0, "α > 2/η", "", None),
    (1.0, "(0, αλ1)", "", None),
])
def test_compare_with_the_paper(measured, paper, agreement, relative):
    result = explain.compare(measured, paper)
    assert result["agreement"] == agreement
    assert result["relative_difference"] == pytest.approx(relative) if relative is not None \
        else result["relative_difference"] is None


def test_sentences_name_both_sides():
    sides = {"supports": ["float64"], "refutes": ["bfloat16", "float16", "int8"], "inconclusive": []}
    assert explain.verdict_sentence("conditional", sides, []) == \
        "Holds when float64, and fails when bfloat16; float16 (and 1 more, listed below)."
    assert explain.verdict_sentence("refuted", {"refutes": ["p = 0.5"]}, []).startswith("Fails when p = 0.5; no ")
    assert explain.verdict_sentence("inconclusive", {"inconclusive": ["VGG11 (too short)"]}, []) == \
        "Inconclusive because VGG11 (too short)."
    assert explain.verdict_sentence("holds", {}, [], explain.partial_phrase(1, 2, 1)) == \
        "Holds (partial: 1 of its tests did not run; 2 cells were inconclusive; 1 cell was void (outside its " \
        "premise or at a bound), listed below)."
    assert explain.partial_phrase(0) == ""
    assert explain.partial_phrase(0, collection_known=False).startswith("the run stopped before its workers")


def test_a_counting_decision_shows_its_finding_beside_the_papers_number_in_the_first_sentence():
    from gdcut import deepnet
    cell = {"condition": "Table 2, SGD, λ1 = 0.002 vs 2", "counts_as": "supports", "reason": "",
            "finding": deepnet.l1_finding({"small λ1 %": 99.96, "large λ1 %": 0.17, "difference": 99.79},
                                          "99.89% vs 0.18%")}
    void = {"condition": "Table 2, Adam, App. C's procedure, λ1 = 0.002 vs 2", "counts_as": "inconclusive",
            "reason": "not settled", "finding": ""}
    sides = render._sides([{"role": "decides", "cells": [cell, void], "conditions": [], "refutes": False}])
    sentence = explain.verdict_sentence("holds", sides, [])
    assert sentence.startswith("Holds when Table 2, SGD, λ1 = 0.002 vs 2: 99.96% vs 0.17% of weights below 1e-5 "
                               "(paper: 99.89% vs 0.18%).")
    assert "Inconclusive: Table 2, Adam, App. C's procedure, λ1 = 0.002 vs 2 (not settled)" in sentence
    assert deepnet.l1_finding({}, "r = 32.7") == ""  # runs that could not speak have no finding


def test_identical_records_are_stored_once_with_a_count():
    a, b = {"kind": "condition", "text": "float64"}, {"kind": "condition", "text": "float32"}
    assert unique_records([a, b, dict(a), a]) == [dict(a, count=3), dict(b, count=1)]


def test_format_value_reads_like_text():
    assert format_value([False, True]) == "no, yes"
    assert format_value("321988288.000") == "3.21988e+08"
    assert format_value(None) == "—" and format_value(0.123456789) == "0.123457"


def _card(claim_id, run, tests=("t",), verdict="holds"):
    return {"id": claim_id, "run": run, "tests": list(tests), "verdict": verdict}


def test_untouched_cards_are_carried_over_with_their_run():
    previous = {"schema": 3, "generated_at": "old", "runs": {"old": {"command": "pytest claims"}},
                "claims": [_card("L3", "old"), _card("L4", "old", verdict="conditional")]}
    ledger = {"generated_at": "new", "runs": {"new": {"command": "pytest --claim L4"}},
              "claims": [_card("L3", "new", tests=(), verdict="not-run"), _card("L4", "new", verdict="holds")]}
    merged, carried = carry.carry_over(previous, ledger)
    assert carried == ["L3"]
    assert [(c["id"], c["run"], c["verdict"]) for c in merged["claims"]] == [("L3", "old", "holds"),
                                                                             ("L4", "new", "holds")]
    assert set(merged["runs"]) == {"old", "new"}
    assert carry.carry_over(None, ledger) == (ledger, [])


def test_previous_ledgers_of_another_schema_are_not_carried(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text('{"schema": 2, "claims": []}')
    assert carry.load_previous(path, 3) is None
    assert carry.load_previous(tmp_path / "absent.json", 3) is None


def test_verdict_history_marks_moves_and_carried_cards():
    one = {"generated_at": "t1", "claims": [_card("L3", "t1", verdict="holds")]}
    two = {"generated_at": "t2", "claims": [_card("L3", "t1", verdict="refuted")]}
    history = verdict_history([("a", one), ("b", two)])
    assert [run["name"] for run in history["runs"]] == ["b", "a"]
    assert history["rows"] == [{"id": "L3", "changes": 1, "cells": [{"verdict": "refuted", "carried": True},
                                                                    {"verdict": "holds", "carried": False}]}]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_badge_has_a_contrast_of_at_least_4_5():
    css = TEMPLATE.read_text(encoding="utf-8")
    badges = re.findall(r"\.v-([a-z-]+) \{ background: (#[0-9a-f]{3,6});(?: color: (#[0-9a-f]{3,6});)? \}", css)
    assert len(badges) == 8
    for name, background, text in badges:
        full = [c if len(c) == 7 else "#" + "".join(ch * 2 for ch in c[1:]) for c in (background, text or "#fff")]
        light, dark = sorted(map(_luminance, full), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, name


# --------------------------------------------------------------------------- reading check, summary, cost, digests
@pytest.mark.parametrize("text, problem", [
    ("eq9 fails for every initialisation when p at least 2", "test name 'eq9'"),
    ("Holds when rmsprop end state does not depend on lambda", "lower-case 'rmsprop'"),
    ("Holds when What can be tested of Ma et al.'s picture", "capitalised 'What' after 'when'"),
    ("fails when The Huber loss has a Lipschitz gradient", "capitalised 'The' after 'when'"),
    ("L: ℓ2 Lipschitz constant; toy LASSO λ1√P", "a definition"),
    ("claims/test_x.py::test_y", "test name"),
    ("lr=0.1, step_size=30", "snake_case word 'step_size'"),
])
def test_the_reading_check_finds_test_metadata(text, problem):
    assert any(p.startswith(problem) for p in explain.reader_problems(text)), explain.reader_problems(text)


@pytest.mark.parametrize("text", [
    "Holds when float64, α = 1e-05, 3 seeds; float32, α = 0.1, 3 seeds (and 3 more, listed below)",
    "torch RMSprop float64, P = 2500, T = 2500: entries never 0",
    "float64 one-sided difference quotients of torch.relu at 0",
    "Holds when Adam runs at the paper's batch of 512, and fails when P ≥ 2",
    "tested as the paper states it",
    "horizon max_k n_k + 4 steps",
])
def test_the_reading_check_lets_a_readers_sentence_pass(text):
    assert explain.reader_problems(text) == []


def test_a_condition_on_both_sides_or_on_neither_is_a_reading_problem():
    card = {"id": "E4", "sentence": "Holds when x, and fails when x.", "sides": {"supports": ["x"], "refutes": ["x"]}}
    assert explain.card_reading_problems(card) == ["E4: 'x' is on both sides"]
    card["sides"] = {"supports": [explain.UNSTATED], "refutes": [explain.UNSTATED_REFUTING]}
    assert explain.card_reading_problems(card) == ["E4: neither side names a condition (the tests record none)"]


def _summary_card(claim_id, verdict, **extra):
    card = {"id": claim_id, "verdict": verdict, "title": f"title {claim_id}", "summary": "The paper says so. More.",
            "kind": "proposition", "sentence": f"sentence {claim_id}.", "tests": [{"nodeid": "t"}], "run": "r",
            "sides": {"supports": [], "refutes": [], "inconclusive": [], "aside": []}, "evidence": [],
            "verdict_reasons": [], "complete": True, "rerun": [f"scripts/verify --claim={claim_id}"], "gpu": False,
            "time_s": 1.0, "test_time_s": 1.0, "training_s": 0.0}
    card.update(extra)
    return card


def test_the_summary_separates_refuted_from_conditional_with_our_number_beside_the_papers():
    """A refuted claim whose refuting cells did not run the paper's setting is listed as refuted by a
    counterexample; a conditional one without such a cell holds in some settings and fails in others."""
    row = {"name": "limsup ‖β‖₁", "measured": 0.0106, "paper": "< αλ1 = 0.01", "paper_where": "eq. 9", "unit": "",
           "condition": "", "agreement": "disagrees", "counts_as": "refutes", "basis": "comparison",
           "criterion": "< 0.01"}
    cards = [_summary_card("L4", "refuted", evidence=[row], sides={"refutes": ["P ≥ 2"], "inconclusive": ["P = 1"]}),
             _summary_card("L2", "conditional"),
             _summary_card("L3", "holds"),
             _summary_card("L20", "inconclusive", gpu=True, sides={"inconclusive": ["SGD (too short)"]})]
    report = summary.reproducibility(cards, {"r": {"deep-net scale": "smoke", "duration_s": 10, "processes": 2}})
    # refuted, but by no cell of the paper's own setting: a counterexample to the general statement
    assert report["fails"] == [] and [c["id"] for c in report["counterexamples"]] == ["L4"]
    assert [c["id"] for c in report["conditional"]] == ["L2"]
    assert report["counterexamples"][0]["sentence"] == (
        "The paper: The paper says so. Found: Fails when P ≥ 2; no tested condition supports it. "
        "Measured limsup ‖β‖₁: 0.0106; the paper: < αλ1 = 0.01 (eq. 9).")
    assert [c["id"] for c in report["reproduces"]] == ["L3"]
    settle = report["unsettled"][0]["settle"]
    assert settle["command"].endswith("--gdcut-scale=paper") and "SGD (too short)" in settle["text"]


def test_a_second_reading_is_never_the_number_a_refutation_shows():
    reading = {"name": "fresh-state share", "measured": 70.0, "paper": 1.21, "paper_where": "Table 2", "unit": "%",
               "condition": "", "agreement": "disagrees", "counts_as": "reading", "basis": "comparison",
               "criterion": "≈ 1.21 (within 5%)"}
    assert summary.key_number({"evidence": [reading]}) is None
    deciding = dict(reading, name="App. C share", counts_as="refutes")
    assert summary.key_number({"evidence": [reading, deciding]})["name"] == "App. C share"


def test_a_refutation_whose_cells_state_their_findings_shows_no_other_number():
    # L20's Adam row: the λ1 = 2 share differs from the paper's by more than 5% but agrees by the rule, which
    # refuted on the difference; the cell's finding says so, and a row's own comparison must not stand beside it
    share = {"name": "Adam share, λ1=2", "measured": 2.65, "paper": 2.28, "paper_where": "Table 2", "unit": "%",
             "condition": "", "agreement": "disagrees", "counts_as": "refutes", "basis": "comparison",
             "criterion": "≈ 2.28 (within 5%)"}
    stated = {"condition": "Table 2, Adam", "counts_as": "refutes", "finding": "1.01% vs 2.65% (paper: 3.31% vs 2.28%)"}
    unstated = dict(stated, finding="")
    assert summary.key_number({"evidence": [share], "tests": [{"cells": [stated]}]}) is None
    assert summary.key_number({"evidence": [share], "tests": [{"cells": [stated, unstated]}]})["name"] == share["name"]
    assert summary.key_number({"evidence": [share], "tests": [{"cells": [dict(stated, counts_as="supports")]}]})


def test_a_partial_claim_in_what_reproduces_names_the_cells_that_did_not_settle():
    decides = {"nodeid": "t", "role": "decides", "refutes": False, "conditions": [], "cells": [
        {"condition": "v1 §3 shares", "counts_as": "supports", "reason": "", "paper_setting": []},
        {"condition": "v1 §3 L1-norm order", "counts_as": "inconclusive", "reason": "not settled", "paper_setting": []}]}
    card = _summary_card("L18", "holds", tests=[decides], complete=False, unrun=["t2"])
    [entry] = summary.reproducibility([card], {"r": {"duration_s": 1, "processes": 1}})["reproduces"]
    assert entry["partial"] and entry["not_settled"] == ["v1 §3 L1-norm order"] and entry["unrun"] == 1


def test_the_cost_adds_up_with_training_attributed_to_the_claims_that_use_it():
    training = [{"nodeid": "gdcut-training::L19-20:v2-sgd-lambda2", "duration_s": 10.0},
                {"nodeid": "gdcut-training::C5-6:11-relu-seed0", "duration_s": 4.0}]
    shares, unattributed = render.attribute_training(training, {"L19", "L20", "C5"})
    assert shares == {"L19": 5.0, "L20": 5.0, "C5": 4.0} and unattributed == 0.0
    assert render.attribute_training(training, {"L19"}) == ({"L19": 10.0}, 4.0)
    shared = {"nodeid": "claims/test_deep_l1.py::test_l19_l20", "duration_s": 1.0}
    cards = [_summary_card("L19", "holds", tests=[shared], test_time_s=1.0, training_s=5.0, time_s=6.0),
             _summary_card("L20", "holds", tests=[shared], test_time_s=1.0, training_s=0.0, time_s=1.0)]
    [cost] = summary.cost(cards, {"r": {"duration_s": 20.0, "processes": 2, "other_tests_s": 3.0,
                                        "unattributed_training_s": 4.0}})
    # the test on both cards ran once, and is counted once
    assert cost["claim_tests_s"] == 1.0
    assert cost["work_s"] == 1.0 + 5.0 + 3.0 + 4.0 and cost["per_process_s"] == 6.5 and cost["overhead_s"] == 13.5


def test_a_conditional_claim_refuted_in_the_papers_own_setting_is_listed_with_what_fails():
    """The summary's "what fails in the paper's own setting" holds refuted claims and conditional claims whose
    refuting cell ran the setting the paper states (``evidence.paper_setting``); the others are conditional."""
    decides = {"nodeid": "t", "role": "decides", "refutes": False, "conditions": [], "cells": [
        {"condition": "P = 1", "counts_as": "supports", "reason": "", "paper_setting": []},
        {"condition": "P = 2, the worked example", "counts_as": "refutes", "reason": "",
         "paper_setting": ["v2 §3.1, the worked example"]}]}
    elsewhere = dict(decides, cells=[dict(c, paper_setting=[]) for c in decides["cells"]])
    sides = {"supports": ["P = 1"], "refutes": ["P = 2, the worked example"], "inconclusive": [], "aside": []}
    cards = [_summary_card("L4", "conditional", tests=[decides], sides=sides),
             _summary_card("L6", "conditional", tests=[elsewhere], sides=sides)]
    report = summary.reproducibility(cards, {"r": {"duration_s": 1, "processes": 1}})
    assert [c["id"] for c in report["fails"]] == ["L4"] and [c["id"] for c in report["conditional"]] == ["L6"]
    assert report["fails"][0]["paper_setting"] == [["P = 2, the worked example", "v2 §3.1, the worked example"]]
    assert "In the paper's own setting it fails: P = 2, the worked example (v2 §3.1, the worked example)." \
        in report["fails"][0]["sentence"]


def test_a_rule_digest_covers_its_words_and_code_and_says_unverified_without_git(tmp_path):
    (tmp_path / "claims").mkdir()
    source = "def test_rule(evidence):\n    evidence.decision('c', ruling)\n"
    (tmp_path / "claims" / "test_a.py").write_text(source)
    first = preregistration.registration("rule", "stat", "thr", ["claims/test_a.py::test_rule"], tmp_path)
    assert first["rule_commit"].startswith("unverified") and first["rule_code"] == ["claims/test_a.py:1-2"]
    assert preregistration.registration("rule!", "stat", "thr", ["claims/test_a.py::test_rule"],
                                        tmp_path)["rule_digest"] != first["rule_digest"]
    (tmp_path / "claims" / "test_a.py").write_text(source.replace("'c'", "'d'"))
    assert preregistration.registration("rule", "stat", "thr", ["claims/test_a.py::test_rule"],
                                        tmp_path)["rule_digest"] != first["rule_digest"]
