"""Counterexamples found, not only stored: a Hypothesis search over instances (issue 10, rule 5).

A stored counterexample shows that a bound fails; a search that finds one from
scratch shows the failure is not a hand-picked accident, and tells how easy it
is to meet. ``find_counterexample`` runs Hypothesis under the loaded profile
(``--hypothesis-profile thorough``: 2000 examples), steered by ``target()``.
"""
from __future__ import annotations

import time
from typing import Callable

from hypothesis import HealthCheck, assume, given, settings, target
from hypothesis.strategies import SearchStrategy


def find_counterexample(admissible: Callable[..., bool], instances: SearchStrategy,
                        ratio: Callable[[tuple], float]) -> tuple[tuple, float] | None:
    """(the first instance with ratio(instance) > 1, seconds until it was found), or None within max_examples.

    ``admissible(*instance)`` rejects instances outside the claim's premise: ``assume`` keeps them from using up
    the budget. ``target(ratio)`` steers the search uphill. The example database is off, so every run starts from
    scratch and cannot replay an earlier find.
    """
    if not callable(admissible) or not callable(ratio):
        raise ValueError("admissible and ratio must be callables")
    if not isinstance(instances, SearchStrategy):
        raise ValueError(f"instances must be a Hypothesis strategy, got {type(instances).__name__}")
    found = []

    @settings(database=None, suppress_health_check=[*settings().suppress_health_check, HealthCheck.filter_too_much])
    @given(instance=instances)
    def search(instance):
        if found:
            return
        assume(admissible(*instance))
        value = ratio(instance)
        target(value, label="ratio")
        if value > 1:
            found.append((instance, time.monotonic() - started))

    started = time.monotonic()
    search()
    return found[0] if found else None
