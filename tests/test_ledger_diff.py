"""gdcut.ledger.diff: what changed between two ledgers."""
from __future__ import annotations

import copy
import json

import pytest

from gdcut.ledger.diff import diff_ledgers, main


def _ledger(verdict="holds", measured=1.0, duration=0.5):
    return {
        "schema": 1, "generated_at": "2026-01-01T00:00:00+00:00", "provenance": {"duration_s": duration},
        "claims": [{
            "id": "L3", "verdict": verdict, "conditions": ["supporting: exact"], "notes": [], "parameters": [],
            "tables": [], "time_s": duration,
            "evidence": [{"name": "upper point", "measured": measured, "paper": 0.0053, "unit": "", "condition": "",
                          "test": "claims/test_x.py::test_a"}],
            "tests": [{"nodeid": "claims/test_x.py::test_a", "outcome": "passed", "refutes": False,
                       "duration_s": duration}],
        }],
    }


def test_identical_ledgers_up_to_timings_have_no_differences():
    assert diff_ledgers(_ledger(duration=0.5), _ledger(duration=9.0)) == []


def test_verdict_and_measurement_changes_are_reported():
    lines = diff_ledgers(_ledger(), _ledger(verdict="refuted", measured=2.0))
    assert "L3: verdict holds -> refuted" in lines
    assert "L3: upper point: 1.0 -> 2.0" in lines


def test_added_and_removed_claims_and_rows():
    new = _ledger()
    new["claims"].append(dict(copy.deepcopy(new["claims"][0]), id="L4"))
    new["claims"][0]["evidence"] = []
    lines = diff_ledgers(_ledger(), new)
    assert "L4: only in new ledger" in lines
    assert "L3: upper point: measurement gone (was 1.0)" in lines


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="old is not a claims ledger"):
        diff_ledgers({"schema": 1}, _ledger())
    with pytest.raises(ValueError, match=r"new: claims\[0\] lacks an 'id' or a 'verdict'"):
        diff_ledgers(_ledger(), {"claims": [{"id": "L3"}]})


def test_command_line_exit_codes(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_ledger()))
    new.write_text(json.dumps(_ledger(measured=3.0)))
    assert main([str(old), str(old)]) == 0
    assert main([str(old), str(new)]) == 1
    assert "1.0 -> 3.0" in capsys.readouterr().out
    assert main([str(old)]) == 2
    assert main(["--last", str(tmp_path)]) == 2
    history = tmp_path / "history"
    history.mkdir()
    (history / "ledger-1.json").write_text(json.dumps(_ledger()))
    (history / "ledger-2.json").write_text(json.dumps(_ledger(verdict="refuted")))
    assert main(["--last", str(tmp_path)]) == 1


def test_a_cell_whose_decision_moves_is_reported_by_condition():
    def with_decision(decision, verdict):
        ledger = _ledger(verdict=verdict)
        ledger["claims"][0]["decisions"] = [{"rule": "r", "statistic": "s", "threshold": "t", "cells": [
            {"condition": "VGG11 +BN", "decision": decision, "n": 5, "values": {}, "reason": "", "test": "t"}]}]
        return ledger

    lines = diff_ledgers(with_decision("supports", "holds"), with_decision("inconclusive", "inconclusive"))
    assert lines == ["L3: decision [VGG11 +BN] supports -> inconclusive", "L3: verdict holds -> inconclusive"]


def _one_claim_run(base: dict) -> dict:
    """A ledger whose own run tested only L3: L4 was not run (no tests)."""
    ledger = copy.deepcopy(base)
    ledger["claims"].append(dict(copy.deepcopy(ledger["claims"][0]), id="L4", verdict="not-run", tests=[],
                                 evidence=[]))
    return ledger


def test_common_compares_only_claims_run_in_both_and_the_summary_comes_first(tmp_path, capsys):
    full = _ledger()
    full["claims"].append(dict(copy.deepcopy(full["claims"][0]), id="L4"))
    partial = _one_claim_run(_ledger(measured=2.0))
    assert "L4: verdict holds -> not-run" in diff_ledgers(full, partial)
    assert diff_ledgers(full, partial, common_only=True) == ["L3: upper point: 1.0 -> 2.0"]
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(full))
    new.write_text(json.dumps(partial))
    assert main(["--common", str(old), str(new)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 claim(s) compared (run in both): 1 changed, 0 verdict(s) moved"
    assert out[-1] == "L3: upper point: 1.0 -> 2.0"


def test_the_html_page_is_explained_not_parsed(tmp_path, capsys):
    page, ledger = tmp_path / "ledger.html", tmp_path / "ledger.json"
    page.write_text("<!DOCTYPE html><html></html>")
    ledger.write_text(json.dumps(_ledger()))
    assert main([str(page), str(ledger)]) == 2
    assert f"{page} is the HTML page; the diff reads the JSON ledger written beside it ({ledger})" \
        in capsys.readouterr().err


def test_a_rule_whose_digest_moved_is_flagged(capsys, tmp_path):
    def with_rule(digest: str) -> dict:
        ledger = _ledger()
        ledger["claims"][0]["decisions"] = [{
            "rule": "unanimity over seeds", "statistic": "s", "threshold": "t", "cells": [],
            "rule_digest": digest, "rule_commit": "abcdef1234 2026-12-01T00:00:00+00:00"}]
        return ledger

    assert diff_ledgers(with_rule("a" * 16), with_rule("a" * 16)) == []
    assert diff_ledgers(with_rule("a" * 16), with_rule("b" * 16)) == [
        f"L3: rule changed [unanimity over seeds]: digest {'a' * 16} -> {'b' * 16} "
        "(last changed: abcdef1234 2026-12-01T00:00:00+00:00)"]
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(with_rule("a" * 16)))
    new.write_text(json.dumps(with_rule("b" * 16)))
    assert main([str(old), str(new)]) == 1
    assert "rules changed in L3" in capsys.readouterr().out.splitlines()[0]
