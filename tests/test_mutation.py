"""gdcut.mutation: every mutant targets something real, and the runner kills a wrong implementation."""
from __future__ import annotations

import importlib
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
    with pytest.raises(ValueError, match="GDCUT_MUTANT must name a known mutant"):
        mutation.apply("no-such-mutant")


@pytest.mark.slow
def test_runner_kills_a_momentum_with_the_wrong_sign():
    """The CI-sized run: one mutant, one claim (L11), baseline included. The README has the full run."""
    report = mutation.run_mutants(["momentum-wrong-sign"], Path(__file__).resolve().parents[1], log=lambda line: None)
    assert report["killed"] == report["total"] == 1, report
