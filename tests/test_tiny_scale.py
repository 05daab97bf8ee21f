"""The deep-net claims at the ``tiny`` scale: the machinery end to end, in seconds, with nothing trained.

Every deep-net decision must come out inconclusive (a few steps train nothing
and stop far short of the L1 penalty's horizon) or the claim not-run (no data
set here), the run must exit 0 and nothing may be ``unexpected``: a void
experiment is never a counterexample (issue #9).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEEP_CLAIMS = ("C5", "C6", "L18", "L19", "L20")


@pytest.mark.slow
def test_tiny_scale_runs_every_deep_claim_to_inconclusive_or_not_run(tmp_path):
    command = [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider", "-m", "gpu",
               "--gdcut-scale", "tiny", "--gdcut-cache", str(tmp_path / "cache"),
               "--gdcut-reports", str(tmp_path / "reports")]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    ledger = json.loads((tmp_path / "reports" / "ledger.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in ledger["claims"]}
    assert ledger["summary"]["by_verdict"]["unexpected"] == 0
    assert {claim: verdicts[claim] for claim in DEEP_CLAIMS if verdicts[claim] not in ("inconclusive", "not-run")} == {}
    for claim in (c for c in ledger["claims"] if c["id"] in DEEP_CLAIMS and c["verdict"] == "inconclusive"):
        cells = [cell for group in claim["decisions"] for cell in group["cells"]]
        assert cells and all(cell["decision"] == "inconclusive" and cell["reason"] for cell in cells), claim["id"]
