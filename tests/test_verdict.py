"""The rulebook of gdcut.ledger.verdict as pure functions of test outcomes."""
from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from gdcut.ledger.verdict import (COUNTS, DECISIONS, OUTCOMES, VERDICTS, Decision, Facts, OpenParameter, Outcome,
                                  Rulebook, Verdict, claim_verdict, counted_as, function_key, outcome_from_result,
                                  cells, rule_cell)

FILE = "claims/test_x.py"
LIMIT = Rulebook(limit=True)
START = OpenParameter("start β0", ("0", "small"), "0, 1e-3·U[−1,1], U[−1,1]")
SWEPT_START = Facts(swept=(("start β0", ("0", "small", "U[−1,1]")),))


def outcome(name: str, result: str = "passed", refutes: bool = False, reason: str = "", decisions=(),
            failed_premises=(), certificates=(), **facts) -> Outcome:
    return Outcome(f"{FILE}::{name}", result, refutes, 0.1, reason, tuple(decisions),
                   Facts(failed_premises=tuple(failed_premises), certificates=tuple(certificates), **facts))


def decided(name: str, *cells: tuple[str, str], result: str = "passed") -> Outcome:
    """A decision test: each cell is (condition, decision)."""
    return outcome(name, result, decisions=[Decision(c, d, "void" if d == "inconclusive" else "") for c, d in cells])


# --------------------------------------------------------------------------- one rule each
def test_supporting_pass_holds():
    verdict = claim_verdict([outcome("test_a")], frozenset({f"{FILE}::test_a"}))
    assert verdict == Verdict("holds", (), complete=True)


def test_refuting_pass_is_refuted():
    verdict = claim_verdict([outcome("test_a", refutes=True)], frozenset({f"{FILE}::test_a"}))
    assert verdict == Verdict("refuted", (), complete=True)


def test_supporting_and_refuting_passes_are_conditional():
    verdict = claim_verdict([outcome("test_a"), outcome("test_b", refutes=True)])
    assert verdict.verdict == "conditional"


def test_all_skipped_is_not_run_with_every_distinct_reason():
    verdict = claim_verdict(
        [outcome("test_a", "skipped", reason="needs CUDA"), outcome("test_b", "skipped", reason="needs CUDA"),
         outcome("test_c", "skipped", refutes=True, reason="no CIFAR-10"), outcome("test_d", "skipped")],
        frozenset({f"{FILE}::test_a"}),
    )
    assert verdict.verdict == "not-run"
    assert verdict.reasons == ("needs CUDA", "no CIFAR-10", "skipped")
    assert not verdict.complete


def test_encoded_but_no_outcome_is_not_run_by_deselection():
    verdict = claim_verdict([], frozenset({f"{FILE}::test_a"}))
    assert verdict.verdict == "not-run"
    assert "not selected" in verdict.reasons[0]
    assert not verdict.complete


def test_no_test_and_no_reason_is_not_encoded():
    verdict = claim_verdict([])
    assert verdict.verdict == "not-encoded"
    assert verdict.reasons


def test_context_claim_with_a_reason_is_not_testable():
    verdict = claim_verdict([], not_testable="the sources are offline")
    assert verdict == Verdict("not-testable", ("the sources are offline",))


def test_encoded_tests_outrank_a_not_testable_reason():
    # A registry reason must not hide tests somebody wrote for the claim.
    assert claim_verdict([], frozenset({f"{FILE}::test_a"}), "offline").verdict == "not-run"
    assert claim_verdict([outcome("test_a")], frozenset(), "offline").verdict == "holds"


def test_failed_test_is_unexpected_whatever_else_passed():
    verdict = claim_verdict([outcome("test_a"), outcome("test_b", refutes=True), outcome("test_c", "failed")])
    assert verdict.verdict == "unexpected"
    assert verdict.reasons == (f"{FILE}::test_c failed",)


def test_error_is_unexpected_also_on_a_refuting_test():
    verdict = claim_verdict([outcome("test_a", "error", refutes=True), outcome("test_b", "skipped")])
    assert verdict.verdict == "unexpected"
    assert verdict.reasons == (f"{FILE}::test_a error",)


def test_complete_only_when_every_encoded_function_ran_and_none_skipped():
    encoded = frozenset({f"{FILE}::test_a", f"{FILE}::test_b"})
    partial = claim_verdict([outcome("test_a")], encoded)
    assert partial.verdict == "holds" and not partial.complete
    with_skip = claim_verdict([outcome("test_a"), outcome("test_b", "skipped")], encoded)
    assert with_skip.verdict == "holds" and not with_skip.complete
    full = claim_verdict([outcome("test_a"), outcome("test_b", refutes=True)], encoded)
    assert full.verdict == "conditional" and full.complete


def test_a_collected_parameter_that_did_not_run_leaves_the_claim_partial_and_is_named():
    encoded = frozenset({f"{FILE}::test_row"})
    collected = frozenset({f"{FILE}::test_row[sgd]", f"{FILE}::test_row[adam]"})
    partial = claim_verdict([outcome("test_row[sgd]")], encoded, collected=collected)
    assert partial.verdict == "holds" and not partial.complete
    assert partial.unrun == (f"{FILE}::test_row[adam]",)
    full = claim_verdict([outcome("test_row[sgd]"), outcome("test_row[adam]")], encoded, collected=collected)
    assert full.complete and full.unrun == ()


def test_without_knowing_what_was_collected_no_verdict_is_complete():
    encoded = frozenset({f"{FILE}::test_row"})
    verdict = claim_verdict([outcome("test_row[sgd]")], encoded, collected=None)
    assert verdict.verdict == "holds" and not verdict.complete


def test_an_inconclusive_verdict_still_names_the_tests_that_did_not_run():
    encoded = frozenset({f"{FILE}::test_row"})
    collected = frozenset({f"{FILE}::test_row[sgd]", f"{FILE}::test_row[adam]"})
    void = claim_verdict([outcome("test_row[sgd]", refutes=True, decisions=(
        Decision("SGD", "inconclusive", "too short"),))], encoded, collected=collected)
    assert void.verdict == "inconclusive" and void.unrun == (f"{FILE}::test_row[adam]",)
    assert void.inconclusive_cells == 1


def test_unrun_lists_uncollected_functions_then_skipped_tests():
    encoded = frozenset({f"{FILE}::test_a", f"{FILE}::test_b", f"{FILE}::test_c"})
    verdict = claim_verdict([outcome("test_a"), outcome("test_c", "skipped")], encoded)
    assert verdict.unrun == (f"{FILE}::test_b", f"{FILE}::test_c")


def test_parametrised_cases_count_for_their_test_function():
    encoded = frozenset({f"{FILE}::TestK::test_a"})
    ran = [outcome("TestK::test_a[1-x]"), outcome("TestK::test_a[<b>[2]]")]
    assert claim_verdict(ran, encoded).complete
    assert function_key(f"{FILE}::TestK::test_a[a[0]]") == f"{FILE}::TestK::test_a"


# --------------------------------------------------------------------------- decisions
def test_all_decisions_support_holds_and_names_the_cells():
    verdict = claim_verdict([decided("test_a", ("VGG11", "supports"), ("VGG19", "supports"))],
                            frozenset({f"{FILE}::test_a"}))
    assert verdict == Verdict("holds", ("supports: VGG11", "supports: VGG19"), complete=True)


def test_all_decisions_refute_is_refuted_whatever_the_test_role():
    # A decision test's role (refutes=False here) does not count: its decisions do.
    assert claim_verdict([decided("test_a", ("VGG11", "refutes"))]).verdict == "refuted"


def test_a_mix_of_decisions_is_conditional_listing_both_sides():
    verdict = claim_verdict([decided("test_a", ("+BN", "supports")), decided("test_b", ("no BN", "refutes"))])
    assert verdict.verdict == "conditional"
    assert verdict.reasons == ("supports: +BN", "refutes: no BN")


def test_only_inconclusive_decisions_are_inconclusive_never_refuted():
    verdict = claim_verdict([decided("test_a", ("VGG11", "inconclusive"), ("VGG19", "inconclusive"))],
                            frozenset({f"{FILE}::test_a"}))
    assert verdict.verdict == "inconclusive"
    assert verdict.reasons == ("inconclusive: VGG11 (void)", "inconclusive: VGG19 (void)")
    assert not verdict.complete


def test_inconclusive_cells_beside_usable_ones_leave_the_verdict_but_make_it_partial():
    verdict = claim_verdict([decided("test_a", ("VGG11", "supports"), ("VGG19", "inconclusive"))],
                            frozenset({f"{FILE}::test_a"}))
    assert verdict.verdict == "holds" and not verdict.complete
    assert "inconclusive: VGG19 (void)" in verdict.reasons


def test_decisions_combine_with_ordinary_tests():
    assert claim_verdict([outcome("test_a"), decided("test_b", ("x", "refutes"))]).verdict == "conditional"
    assert claim_verdict([outcome("test_a", refutes=True), decided("test_b", ("x", "inconclusive"))]).verdict == "refuted"


def test_decisions_of_a_failed_test_do_not_count_it_is_unexpected():
    assert claim_verdict([decided("test_a", ("x", "supports"), result="failed")]).verdict == "unexpected"


# --------------------------------------------------------------------------- premises and certificates (issue 10)
def test_a_refuting_test_outside_the_premise_is_void_and_moves_nothing():
    void = outcome("test_b", refutes=True, failed_premises=["differentiable f"])
    assert counted_as(void) == "void"
    verdict = claim_verdict([outcome("test_a"), void])
    assert verdict.verdict == "holds" and not verdict.complete
    assert any("outside the premise: differentiable f" in reason for reason in verdict.reasons)


def test_a_supporting_run_outside_the_premise_is_void_too():
    """Rule 1 both ways: a claim about a decreasing loss, checked on a run whose loss rises, gets no support."""
    rising = outcome("test_a", failed_premises=["the loss decreases at every step (it rose at step 3)"])
    assert counted_as(rising) == "void"
    assert claim_verdict([rising]).verdict == "inconclusive"


def test_a_cell_outside_its_premise_is_void_and_its_neighbours_still_decide():
    test = outcome("test_a", decisions=[Decision("batch 16", "refutes", facts=Facts(failed_premises=("batch 512",))),
                                        Decision("batch 512", "supports")])
    verdict = claim_verdict([test])
    assert verdict.verdict == "holds" and not verdict.complete
    assert "void: batch 16 (outside the premise: batch 512)" in verdict.reasons


def test_void_cells_alone_are_inconclusive():
    assert claim_verdict([outcome("test_a", refutes=True, failed_premises=["p"])]).verdict == "inconclusive"


def test_a_statistic_at_its_ceiling_is_void_whichever_way_it_points():
    for refutes in (False, True):
        capped = outcome("test_a", refutes=refutes, saturated=("period = 2 is at its floor 2",))
        assert counted_as(capped) == "void"
        assert claim_verdict([capped]).verdict == "inconclusive"


def test_a_limit_needs_a_certificate_whichever_way_it_points():
    """Rule 4 both ways: an uncertified support of a limit claim decides as little as an uncertified refutation."""
    for refutes in (False, True):
        assert counted_as(outcome("test_a", refutes=refutes), LIMIT) == "inconclusive"
        assert counted_as(outcome("test_a", refutes=refutes, certificates=[True, False]), LIMIT) == "inconclusive"
        assert counted_as(outcome("test_a", refutes=refutes, certificates=[True]), LIMIT) == ("refutes" if refutes
                                                                                             else "supports")
    verdict = claim_verdict([outcome("test_a")], frozenset({f"{FILE}::test_a"}), book=LIMIT)
    assert verdict.verdict == "inconclusive"
    assert "about a limit, without a convergence certificate that holds" in verdict.reasons[0]


def test_decision_cells_of_a_limit_need_the_certificate_too():
    test = outcome("test_a", decisions=[Decision("λ1 = 2", "supports")])
    assert claim_verdict([test], book=LIMIT).verdict == "inconclusive"
    certified = outcome("test_a", decisions=[Decision("λ1 = 2", "supports", facts=Facts(certificates=(True,)))])
    assert claim_verdict([certified], book=LIMIT).verdict == "holds"


def test_a_refutation_without_its_sweep_is_inconclusive_and_names_the_parameter():
    book = Rulebook(quantifier="existential", open_parameters=(START,))
    unswept = outcome("test_a", refutes=True, swept=(("start β0", ("U[−1,1]",)),))
    count, why = rule_cell("refutes", unswept.facts, book)
    assert count == "inconclusive" and "start β0 (natural defaults 0, small)" in why
    assert counted_as(unswept, book) == "inconclusive"
    assert counted_as(Outcome(unswept.nodeid, "passed", True, facts=SWEPT_START), book) == "refutes"


def test_a_sweep_without_the_natural_defaults_does_not_count():
    book = Rulebook(open_parameters=(START,))
    wide = Facts(swept=(("start β0", ("U[−1,1]", "U[−10,10]")),))
    assert rule_cell("refutes", wide, book)[0] == "inconclusive"
    assert rule_cell("refutes", Facts(independent=("start β0",)), book)[0] == "refutes"


def test_evidence_too_weak_to_refute_a_universal_claim_cannot_support_it():
    """Rule 5 both ways for a universal claim; an existential one is supported by one setting in its premise."""
    universal = Rulebook(open_parameters=(START,))
    existential = Rulebook(quantifier="existential", open_parameters=(START,))
    one_start = Facts(swept=(("start β0", ("U[−1,1]",)),))
    assert rule_cell("supports", one_start, universal)[0] == "inconclusive"
    assert rule_cell("supports", SWEPT_START, universal)[0] == "supports"
    assert rule_cell("supports", one_start, existential)[0] == "supports"
    assert rule_cell("refutes", one_start, existential)[0] == "inconclusive"


def test_a_proposition_that_fails_only_in_float32_is_decided_by_the_exact_reading():
    exact = outcome("test_exact", arithmetic="exact")
    float32 = outcome("test_float32", refutes=True, arithmetic="float32")
    assert counted_as(float32) == "reading"
    verdict = claim_verdict([exact, float32])
    assert verdict.verdict == "holds" and verdict.complete  # a second reading is shown beside: nothing is missing
    assert any(r.startswith("reading: ") and "float32" in r for r in verdict.reasons)


def test_float64_with_a_certified_error_bound_reads_as_exact_and_a_float_claim_is_decided_in_floats():
    assert rule_cell("supports", Facts(arithmetic="float64", certified_float=True), Rulebook())[0] == "supports"
    assert rule_cell("supports", Facts(arithmetic="float64"), Rulebook())[0] == "reading"
    figure = Rulebook(arithmetic="float")
    assert rule_cell("refutes", Facts(arithmetic="float32"), figure)[0] == "refutes"
    assert rule_cell("refutes", Facts(arithmetic="exact"), figure)[0] == "reading"
    assert rule_cell("refutes", Facts(), figure)[0] == "refutes"  # unstated: the claim's own arithmetic


def test_records_become_test_and_cell_facts():
    records = [
        {"kind": "decision", "condition": "SGD", "decision": "refutes", "reason": ""},
        {"kind": "premise", "text": "batch 512", "holds": False, "cell": "SGD"},
        {"kind": "certificate", "certificate": "horizon", "holds": True},
        {"kind": "swept", "parameter": "start β0", "values": ["0", "small"]},
        {"kind": "independent", "parameter": "seed", "reason": "closed form"},
        {"kind": "arithmetic", "arithmetic": "float32", "certified": False},
        {"kind": "statistic", "text": "period 2 at its floor", "saturated": True, "cell": "SGD"},
        {"kind": "paper_setting", "where": "v2 App. C", "cell": "SGD"},
    ]
    result = {"nodeid": f"{FILE}::test_a", "outcome": "passed", "refutes": False}
    built = outcome_from_result(result, records)
    assert built.facts == Facts(certificates=(True,), swept=(("start β0", ("0", "small")),), independent=("seed",),
                                arithmetic="float32")
    [cell] = built.decisions
    assert cell.facts == Facts(failed_premises=("batch 512",), saturated=("period 2 at its floor",),
                               paper_setting=("v2 App. C",))
    # the paper's setting travels with the cell, whatever the cell counts as
    [ruled] = cells(built, Rulebook())
    assert ruled.paper_setting == ("v2 App. C",) and ruled.count == "void"


def test_rule_cell_rejects_an_unknown_direction_and_the_rulebook_unknown_words():
    with pytest.raises(ValueError, match="pointing"):
        rule_cell("maybe", Facts(), Rulebook())
    with pytest.raises(ValueError, match="quantifier"):
        Rulebook(quantifier="some")
    with pytest.raises(ValueError, match="arithmetic"):
        Rulebook(arithmetic="float32")


# --------------------------------------------------------------------------- properties
@st.composite
def facts(draw) -> Facts:
    """What a test or a cell may record: premises, saturation, certificates, a sweep, an arithmetic."""
    return Facts(failed_premises=tuple(draw(st.lists(st.just("premise"), max_size=1))),
                 saturated=tuple(draw(st.lists(st.just("at its ceiling"), max_size=1))),
                 certificates=tuple(draw(st.lists(st.booleans(), max_size=2))),
                 swept=draw(st.sampled_from([(), SWEPT_START.swept])),
                 arithmetic=draw(st.sampled_from(["", "exact", "float32"])))


@st.composite
def linked_outcomes(draw) -> list[Outcome]:
    """A claim's linked tests in one run: any mix of outcomes, roles, cells and facts."""
    count = draw(st.integers(0, 6))
    # Half the runs have nothing broken, so the passing regimes are reached as often as "unexpected".
    possible = draw(st.sampled_from([OUTCOMES, ("passed", "skipped")]))
    cells = st.lists(st.builds(Decision, st.sampled_from(["VGG11", "VGG19", "+BN"]), st.sampled_from(DECISIONS),
                               st.just(""), facts()), max_size=3)
    return [
        Outcome(f"{FILE}::test_{index}", draw(st.sampled_from(possible)), draw(st.booleans()),
                0.0, draw(st.sampled_from(["", "needs CUDA"])), tuple(draw(cells)), draw(facts()))
        for index in range(count)
    ]


@st.composite
def encoded_functions(draw) -> frozenset[str]:
    """Test functions the source links to the claim (some may not have run)."""
    return frozenset(f"{FILE}::test_{index}" for index in draw(st.sets(st.integers(0, 8), max_size=5)))


rulebooks = st.builds(Rulebook, st.booleans(), st.sampled_from(["universal", "existential"]),
                      st.sampled_from(["exact", "float"]), st.sampled_from([(), (START,)]))


def counts_by_hand(facts: Facts, pointing: str, book: Rulebook) -> bool:
    """Does a cell count, by the six rules written out once more, independently of rule_cell?"""
    swept = dict(facts.swept).get("start β0", ())
    own = (facts.arithmetic or "exact") == "exact" if book.arithmetic == "exact" else facts.arithmetic != "exact"
    return (pointing != "inconclusive" and not facts.failed_premises and not facts.saturated and own
            and (not book.limit or (bool(facts.certificates) and all(facts.certificates)))
            and (not book.open_parameters or (pointing == "supports" and book.quantifier == "existential")
                 or {"0", "small"} <= set(swept)))


@given(outcomes=linked_outcomes(), encoded=encoded_functions(), not_testable=st.sampled_from(["", "offline"]),
       book=rulebooks)
def test_verdict_follows_broken_and_counting_cells(outcomes, encoded, not_testable, book):
    verdict = claim_verdict(outcomes, encoded, not_testable, book)
    event(verdict.verdict)
    assert verdict.verdict in VERDICTS
    broken = any(o.outcome in ("failed", "error") for o in outcomes)
    passed = [o for o in outcomes if o.outcome == "passed"]
    assert {counted_as(o, book) for o in passed} <= set(COUNTS)
    pointing = [(d.decision, o.facts + d.facts) for o in passed for d in o.decisions] + [
        ("refutes" if o.refutes else "supports", o.facts) for o in passed if not o.decisions]
    supporting = any(p == "supports" and counts_by_hand(f, p, book) for p, f in pointing)
    refuting = any(p == "refutes" and counts_by_hand(f, p, book) for p, f in pointing)
    assert (verdict.verdict == "unexpected") == broken
    if not broken:
        expected = {(True, True): "conditional", (True, False): "holds", (False, True): "refuted"}
        assert verdict.verdict == expected.get((supporting, refuting), verdict.verdict)
        assert (verdict.verdict in ("holds", "refuted", "conditional")) == (supporting or refuting)
        # inconclusive exactly when nothing counted and some cell was set aside
        aside = any(not counts_by_hand(f, p, book) for p, f in pointing)
        assert (verdict.verdict == "inconclusive") == (not supporting and not refuting and aside)
    if verdict.complete:
        assert all(o.outcome == "passed" for o in outcomes) and outcomes
        assert all(counts_by_hand(f, p, book) for p, f in pointing)
        assert encoded <= {o.nodeid for o in outcomes}
    if verdict.verdict in ("not-run", "unexpected", "not-encoded", "not-testable", "inconclusive"):
        assert verdict.reasons


def test_evidence_rejects_malformed_premises_certificates_and_origins():
    """The issue-10 records name the bad argument (the plugin's evidence fixture builds this same object)."""
    import pytest

    from gdcut.ledger.evidence import RECORD_KEY, Evidence
    from gdcut.ledger.registry import registry

    properties: list = []
    evidence = Evidence(properties, ["L4"], registry())
    for call, argument in ((lambda: evidence.premise("p", 1), "holds"), (lambda: evidence.premise(" ", True), "text"),
                           (lambda: evidence.certificate("eyeballed", 0, 0, True), "kind"),
                           (lambda: evidence.certificate("cycle", 0, 0, "yes"), "holds"),
                           (lambda: evidence.origin("guessed"), "how"), (lambda: evidence.caveat(""), "text"),
                           (lambda: evidence.paper_setting(" "), "where"),
                           (lambda: evidence.paper_setting("v2 §4", cell=3), "cell")):
        with pytest.raises(ValueError, match=argument):
            call()
    evidence.certificate("horizon", 99, 108, True, "max N0 against T − 2")
    [(key, record)] = properties
    assert key == RECORD_KEY and record == {"kind": "certificate", "claim": "L4", "certificate": "horizon", "value": 99,
                                            "tolerance": 108, "holds": True, "detail": "max N0 against T − 2"}
