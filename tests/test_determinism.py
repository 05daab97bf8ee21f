"""Two runs of the same claims give the same ledger (timings aside).

Under the ``ci`` Hypothesis profile (derandomised) every verdict and every
evidence value must repeat exactly.  Under ``dev`` and ``thorough`` Hypothesis
explores new examples on each run by design, so only ``ci`` is held to this.
The full check, over every fast claim, is a command in docs/development.md; this test runs a
subset that touches each kind of evidence: property tests, exact arithmetic,
torch.optim runs, linear programs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gdcut.ledger.diff import diff_ledgers

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ("S1", "S2", "L3", "L12", "E2", "G1")


def _ledger(reports: Path) -> dict:
    command = [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider", "-m", "fast",
               "--gdcut-reports", str(reports), *[arg for claim in CLAIMS for arg in ("--claim", claim)]]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((reports / "ledger.json").read_text())


@pytest.mark.slow
def test_two_ci_runs_give_identical_verdicts_and_evidence(tmp_path):
    first, second = _ledger(tmp_path / "first"), _ledger(tmp_path / "second")
    assert diff_ledgers(first, second) == []
    ran = [c for c in first["claims"] if c["id"] in CLAIMS]
    assert all(c["verdict"] in ("holds", "refuted", "conditional") for c in ran)
    assert sum(len(c["evidence"]) for c in ran) > 10  # the comparison covered real measurements
