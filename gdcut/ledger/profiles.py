"""Hypothesis profiles: ``ci`` (derandomised, bounded), ``dev`` (default), ``thorough``.

``ci`` is loaded automatically when the environment sets ``CI=true``; any
profile can be chosen with ``--hypothesis-profile NAME``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The ``evidence`` fixture is function-scoped but append-only, so sharing it
# across the examples of one property test is safe (and wanted: the test's
# records are about the whole property, not one example).
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]


def register_profiles() -> str:
    """Register the three profiles, load the default one and return its name."""
    # No deadline in any profile: the first example pays torch's start-up cost.
    settings.register_profile("ci", max_examples=30, derandomize=True, database=None, deadline=None,
                              suppress_health_check=_SUPPRESSED, print_blob=True)
    settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=_SUPPRESSED)
    settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=_SUPPRESSED)
    name = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
    settings.load_profile(name)
    return name
