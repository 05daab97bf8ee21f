"""The verdict rules of gdcut.ledger.verdict as pure functions of test outcomes."""
from __future__ import annotations

from hypothesis import event, given
from hypothesis import strategies as st

from gdcut.ledger.verdict import (COUNTS, DECISIONS, OUTCOMES, VERDICTS, Decision, Outcome, Verdict, claim_verdict,
                                  counted_as, function_key)

FILE = "claims/test_x.py"


def outcome(name: str, result: str = "passed", refutes: bool = False, reason: str = "", decisions=(),
            failed_premises=(), certificates=()) -> Outcome:
    return Outcome(f"{FILE}::{name}", result, refutes, 0.1, reason, tuple(decisions), tuple(failed_premises),
                   tuple(certificates))


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
def test_a_refuting_test_outside_the_premise_is_a_caveat_and_moves_nothing():
    caveat = outcome("test_b", refutes=True, failed_premises=["β0 in bfloat16"])
    assert counted_as(caveat) == "caveat"
    verdict = claim_verdict([outcome("test_a"), caveat])
    assert verdict.verdict == "holds"
    assert verdict.reasons == (f"caveat: {FILE}::test_b is outside the premise (β0 in bfloat16)",)


def test_a_supporting_test_outside_the_premise_is_a_caveat_too():
    assert counted_as(outcome("test_a", failed_premises=["differentiable f"])) == "caveat"


def test_caveats_alone_are_inconclusive():
    verdict = claim_verdict([outcome("test_a", refutes=True, failed_premises=["dropout mask fixed"])])
    assert verdict.verdict == "inconclusive" and "outside the premise" in verdict.reasons[0]


def test_a_refuting_test_of_a_limit_without_a_certificate_is_inconclusive():
    uncertified = outcome("test_a", refutes=True)
    assert counted_as(uncertified, limit=True) == "inconclusive"
    verdict = claim_verdict([uncertified], limit=True)
    assert verdict.verdict == "inconclusive"
    assert "without a convergence certificate" in verdict.reasons[0]
    assert claim_verdict([uncertified], limit=False).verdict == "refuted"


def test_a_failed_certificate_is_as_good_as_none():
    assert counted_as(outcome("test_a", refutes=True, certificates=[True, False]), limit=True) == "inconclusive"
    assert claim_verdict([outcome("test_a", refutes=True, certificates=[True, True])], limit=True).verdict == "refuted"


def test_an_uncertified_refutation_leaves_a_supported_claim_holding_but_partial():
    verdict = claim_verdict([outcome("test_a"), outcome("test_b", refutes=True)],
                            frozenset({f"{FILE}::test_a", f"{FILE}::test_b"}), limit=True)
    assert verdict.verdict == "holds" and not verdict.complete


def test_supporting_tests_of_a_limit_need_no_certificate_and_decisions_are_untouched():
    assert counted_as(outcome("test_a"), limit=True) == "supports"
    assert counted_as(decided("test_b", ("x", "refutes")), limit=True) == "decides"


# --------------------------------------------------------------------------- properties
@st.composite
def linked_outcomes(draw) -> list[Outcome]:
    """A claim's linked tests in one run: any mix of outcomes and roles."""
    count = draw(st.integers(0, 6))
    # Half the runs have nothing broken, so the passing regimes are reached as often as "unexpected".
    possible = draw(st.sampled_from([OUTCOMES, ("passed", "skipped")]))
    cells = st.lists(st.builds(Decision, st.sampled_from(["VGG11", "VGG19", "+BN"]), st.sampled_from(DECISIONS),
                               st.just("")), max_size=3)
    return [
        Outcome(f"{FILE}::test_{index}", draw(st.sampled_from(possible)), draw(st.booleans()),
                0.0, draw(st.sampled_from(["", "needs CUDA"])), tuple(draw(cells)),
                tuple(draw(st.lists(st.just("premise"), max_size=1))), tuple(draw(st.lists(st.booleans(), max_size=2))))
        for index in range(count)
    ]


@st.composite
def encoded_functions(draw) -> frozenset[str]:
    """Test functions the source links to the claim (some may not have run)."""
    return frozenset(f"{FILE}::test_{index}" for index in draw(st.sets(st.integers(0, 8), max_size=5)))


@given(outcomes=linked_outcomes(), encoded=encoded_functions(), not_testable=st.sampled_from(["", "offline"]),
       limit=st.booleans())
def test_verdict_follows_broken_and_passed_outcomes(outcomes, encoded, not_testable, limit):
    verdict = claim_verdict(outcomes, encoded, not_testable, limit)
    event(verdict.verdict)
    assert verdict.verdict in VERDICTS
    broken = any(o.outcome in ("failed", "error") for o in outcomes)
    passed = [o for o in outcomes if o.outcome == "passed"]
    counts = [counted_as(o, limit) for o in passed]
    assert set(counts) <= set(COUNTS)
    decisions = {d.decision for o in passed for d in o.decisions}
    supporting = "supports" in counts or "supports" in decisions
    # never a refutation from outside the premise, nor of a limit without certificates that all hold
    refuting = any(not o.decisions and o.refutes and not o.failed_premises
                   and (not limit or (o.certificates and all(o.certificates))) for o in passed) or "refutes" in decisions
    assert (verdict.verdict == "unexpected") == broken
    assert (verdict.verdict in ("holds", "refuted", "conditional")) == ((supporting or refuting) and not broken)
    if not broken:
        expected = {(True, True): "conditional", (True, False): "holds", (False, True): "refuted"}
        assert verdict.verdict == expected.get((supporting, refuting), verdict.verdict)
    # inconclusive exactly when nothing usable was said and a decision called the run void
    void = "inconclusive" in decisions or {"inconclusive", "caveat"} & set(counts)
    assert (verdict.verdict == "inconclusive") == bool(not broken and not supporting and not refuting and void)
    if verdict.complete:
        assert all(o.outcome == "passed" for o in outcomes) and outcomes
        assert "inconclusive" not in decisions
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
                           (lambda: evidence.origin("guessed"), "how"), (lambda: evidence.caveat(""), "text")):
        with pytest.raises(ValueError, match=argument):
            call()
    evidence.certificate("horizon", 99, 108, True, "max N0 against T − 2")
    [(key, record)] = properties
    assert key == RECORD_KEY and record == {"kind": "certificate", "claim": "L4", "certificate": "horizon", "value": 99,
                                            "tolerance": 108, "holds": True, "detail": "max N0 against T − 2"}
