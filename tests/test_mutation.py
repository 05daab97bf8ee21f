"""gdcut.mutation: every mutant targets something real, and the runner kills a wrong implementation."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from gdcut import mutation
from gdcut.ledger.registry import registry


@pytest.mark.parametrize("name", sorted(mutation.MUTANTS))
def test_each_mutant_replaces_an_existing_attribute_and_names_known_claims(name, monkeypatch):
    mutant = mutation.MUTANTS[name]
    module_name, attribute = mutant.target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attribute)
    monkeypatch.setattr(module, attribute, original)  # restored after the test, whatever apply() does
    mutation.apply(name)
    assert getattr(module, attribute) is not original
    assert set(mutant.claims) <= registry().keys()


def test_unknown_mutant_is_a_clear_error():
    with pytest.raises(ValueError, match="--gdcut-mutant must name a known mutant"):
        mutation.apply("no-such-mutant")


def test_unknown_mutant_option_is_a_usage_error_naming_the_known_mutants(pytester):
    pytester.makeini("[pytest]\n")
    pytester.makeconftest('pytest_plugins = ["gdcut.ledger.plugin"]\n')
    result = pytester.runpytest("-p", "gdcut.mutation", "--gdcut-mutant", "bogus", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "INTERNALERROR" not in result.stderr.str() + result.stdout.str()
    result.stderr.fnmatch_lines(["*--gdcut-mutant must name a known mutant*sign-zero-is-one*got 'bogus'*"])


def test_the_ledger_records_the_mutant_that_ran(pytester, monkeypatch):
    pytester.makeini("[pytest]\n")
    pytester.makeconftest('pytest_plugins = ["gdcut.ledger.plugin"]\n')
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "test_one.py").write_text(
        'import pytest\n\n@pytest.mark.claim("S1")\ndef test_s1():\n    pass\n', encoding="utf-8")
    # in a subprocess: an installed mutant stays installed in the process that ran it
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))  # this checkout's gdcut
    result = pytester.runpytest_subprocess("claims", "-p", "gdcut.mutation", "--gdcut-mutant", "sign-zero-is-one",
                                           "--gdcut-reports", "out", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    ledger = json.loads((pytester.path / "out" / "ledger.json").read_text(encoding="utf-8"))
    assert ledger["provenance"]["mutant"] == "sign-zero-is-one"


@pytest.mark.slow
def test_runner_kills_a_momentum_with_the_wrong_sign():
    """The CI-sized run: one mutant, one claim (L11), baseline included. docs/development.md has the full run."""
    report = mutation.run_mutants(["momentum-wrong-sign"], Path(__file__).resolve().parents[1], log=lambda line: None)
    assert report["killed"] == report["total"] == 1, report
