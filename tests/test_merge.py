"""gdcut.ledger.merge: shard ledgers of one commit joined into one ledger, verdicts recomputed."""
import copy
import json
import shutil
from pathlib import Path

import pytest

from gdcut.ledger import merge
from tests.test_ledger_plugin import _reject_constant

ROOT = Path(__file__).parents[1]
DEEP = ("test_deep_l1.py", "conftest.py")  # L18-L20: ten short VGG16 runs, decisions on five claims
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def deep_project(pytester: pytest.Pytester) -> Path:
    """A project holding the real L1 claim module and the real registry."""
    pytester.makeini("[pytest]\n")
    pytester.makeconftest('pytest_plugins = ["gdcut.ledger.plugin"]\n')
    (pytester.path / "claims").mkdir()
    for name in DEEP:
        shutil.copy(ROOT / "claims" / name, pytester.path / "claims" / name)
    return pytester.path


def run(pytester, root: Path, reports: str, *args: str) -> dict:
    # importlib mode: this process may already hold the real claims modules under the same names
    pytester.runpytest("claims", "-m", "gpu", "--gdcut-scale", "tiny", "--gdcut-cache", str(root / "cache"),
                       "--gdcut-reports", str(root / reports), "--import-mode=importlib", "-p", "no:cacheprovider",
                       "-p", "no:randomly", *args)
    return json.loads((root / reports / "ledger.json").read_text(encoding="utf-8"), parse_constant=_reject_constant)


def comparable(ledger: dict) -> dict:
    """Per claim: verdict, reasons, completeness, decisions, measures and tables (timings and figure bytes differ
    run to run)."""
    return {c["id"]: (c["verdict"], c["verdict_reasons"], c["complete"], c["unrun"], c["decisions"], c["evidence"],
                      c["tables"],
                      sorted((t["nodeid"], t["outcome"]) for t in c["tests"])) for c in ledger["claims"]}


@pytest.mark.slow
@pytest.mark.skipif(not FASHION.is_file(), reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_two_shards_merged_give_the_verdicts_and_evidence_of_one_run(pytester):
    root = deep_project(pytester)
    shards = [run(pytester, root, f"shard{k}", "--gdcut-shard", f"{k}/2") for k in (1, 2)]
    ran = [{r["nodeid"] for r in ledger[merge.MERGE_KEY]["results"] if r["outcome"] != "skipped"} for ledger in shards]
    assert ran[0] and ran[1] and not ran[0] & ran[1]  # each shard ran its own share of the claim tests
    whole = run(pytester, root, "whole")
    assert merge.main(["merge", str(root / "shard1/ledger.json"), str(root / "shard2/ledger.json"), "-o",
                       str(root / "merged")]) == 0
    merged = json.loads((root / "merged/ledger.json").read_text(encoding="utf-8"))
    assert comparable(merged) == comparable(whole)
    assert merged["summary"]["by_verdict"] == whole["summary"]["by_verdict"]
    assert (root / "merged/ledger.html").is_file()


def shard_ledger(commit="abc123", nodeid="claims/test_a.py::test_x", outcome="passed") -> dict:
    result = {"nodeid": nodeid, "outcome": outcome, "duration_s": 0.1, "reason": "", "claims": [["S1", False]],
              "records": []}
    claim = {"id": "S1", "section": "S", "title": "t", "summary": "s", "kind": "proposition", "where": {"v1": "§1"},
             "paper_values": [], "discrepancies": [], "not_testable": ""}
    return {"provenance": {"git commit": commit, "deep-net scale": "tiny", "deep-net shard": "1/2"},
            "claims": [claim], merge.MERGE_KEY: {"results": [result], "inventory": {"S1": [
                {"key": nodeid, "refutes": False, "markers": []}]}}}


def test_ledgers_of_different_commits_are_refused_naming_both(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"different git commits \(a.json: abc123; b.json: def456\)"):
        merge.merge_ledgers([shard_ledger(), shard_ledger(commit="def456")], ["a.json", "b.json"])
    for name, commit in (("a.json", "abc123"), ("b.json", "def456")):
        (tmp_path / name).write_text(json.dumps(shard_ledger(commit=commit)))
    assert merge.main(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(tmp_path / "out")]) == 2
    assert "different git commits" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_ledger_without_per_test_results_is_refused():
    old = shard_ledger()
    del old[merge.MERGE_KEY]
    with pytest.raises(ValueError, match="ledgers: old.json holds no per-test results"):
        merge.merge_ledgers([shard_ledger(), old], ["new.json", "old.json"])


def test_a_failure_in_any_shard_makes_the_merged_claim_unexpected():
    failed = shard_ledger(outcome="failed")
    merged = merge.merge_ledgers([shard_ledger(), failed, copy.deepcopy(shard_ledger())], ["a", "b", "c"])
    assert merged["claims"][0]["verdict"] == "unexpected"
    assert merged["provenance"]["deep-net shard"] == "3 shards merged"
