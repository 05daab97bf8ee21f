"""Hypothesis profiles: ``ci`` (derandomised, bounded: the default), ``dev``, ``thorough``.

``ci`` is loaded unless another profile is chosen, so two runs of
``scripts/verify`` or a plain ``pytest`` draw the same examples and write the
same ledger. Exploration is opt-in: ``--hypothesis-profile dev`` (new examples
on every run, an example database) or ``thorough`` (2000 examples). The
ledger's provenance names the profile that ran.
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings

DEFAULT = "ci"  # reproducible by default; exploring is a choice

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
    settings.load_profile(DEFAULT)
    return DEFAULT
