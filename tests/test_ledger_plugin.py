"""The gdcut pytest plugin end to end: each test builds a throw-away project with pytester.

A project has ``claims/`` test modules, a small registry passed with
``--gdcut-registry`` and a conftest that loads ``gdcut.ledger.plugin``; the
ledger goes to ``<project>/out`` so nothing touches the real ``reports/``.
Runs are in-process (fast) except where a fresh interpreter is the point
(pytest-xdist workers).
"""
from __future__ import annotations

import base64
import json
import math
import re
import textwrap
from pathlib import Path

import pytest

HANG_GUARD_S = 600  # generous on purpose: see run_subprocess

REGISTRY = {
    # id: not_testable reason ("" for testable claims)
    "S1": "",
    "S2": "",
    "S3": "",
    "C1": "",
    "C2": "",
    "C3": "",
    "C4": "",
    "X1": "the sources are web pages that cannot be reached offline",
}

VERDICT_MODULE = """
import pytest

@pytest.mark.claim("S1")
def test_holds(evidence):
    evidence.condition("float64")
    evidence.parameter("alpha", 0.01, note="paper's value")
    evidence.measure("upper point", measured=0.0053, paper="upper point", unit="1", condition="alpha=0.01")
    evidence.note("holds as stated")

@pytest.mark.claim("S1")
def test_holds_too():
    pass

@pytest.mark.claim("S2", refutes=True)
def test_refutes(evidence):
    evidence.condition("seed 3")

@pytest.mark.claim("S3")
def test_conditional_support(evidence):
    evidence.condition("float64")

@pytest.mark.claim("S3", refutes=True)
@pytest.mark.fast
def test_conditional_counterexample(evidence):
    evidence.condition("float32")

@pytest.mark.claim("C1")
def test_fails():
    assert 1 == 2, "the claim broke"

@pytest.fixture
def broken_fixture():
    raise RuntimeError("fixture broke")

@pytest.mark.claim("C2")
def test_fixture_error(broken_fixture):
    pass

@pytest.mark.claim("C3")
def test_skipped():
    pytest.skip("needs CUDA")
"""

EXPECTED_VERDICTS = {
    "S1": "holds", "S2": "refuted", "S3": "conditional", "C1": "unexpected", "C2": "unexpected",
    "C3": "not-run", "C4": "not-encoded", "X1": "not-testable",
}

HOSTILE = "<script>alert(1)</script> \"double\" 'single' & ünïcødé λ₁ ∞ </script><img src=x onerror=alert(2)>"
HOSTILE_ID = "<script>alert(3)</script>\"'</script>"


#: (name, value) of the paper values every claim of the test registry lists, for evidence.measure(paper=name).
PAPER_VALUES = (("upper point", 0.0053), ("infinity", math.inf), ("minus infinity", -math.inf), (HOSTILE, HOSTILE))


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def registry_toml(claims: dict[str, str], title: str = "a claim") -> str:
    entries = []
    paper_values = ", ".join(f'{{ name = {json.dumps(name)}, value = {_toml_value(value)}, where = "§1" }}'
                             for name, value in PAPER_VALUES)
    for claim_id, not_testable in claims.items():
        entries.append(textwrap.dedent(f"""
            [[claim]]
            id = {json.dumps(claim_id)}
            section = {json.dumps(claim_id[0])}
            title = {json.dumps(f"{claim_id}: {title}")}
            summary = "what the paper says"
            kind = {json.dumps("context" if not_testable else "proposition")}
            where = {{ v1 = "§1", v2 = "§2" }}
            paper_values = [{paper_values}]
            not_testable = {json.dumps(not_testable)}
            open_parameters = []
        """))
    return "".join(entries)


class Project:
    """A pytester project with the plugin loaded and the ledger written to ``out/``."""

    def __init__(self, pytester: pytest.Pytester, claims: dict[str, str] = REGISTRY, title: str = "a claim"):
        self.pytester = pytester
        self.root = pytester.path
        self.out = self.root / "out"
        pytester.makeini("[pytest]\n")
        pytester.makeconftest('pytest_plugins = ["gdcut.ledger.plugin"]\n')
        (self.root / "registry.toml").write_text(registry_toml(claims, title), encoding="utf-8")
        (self.root / "claims").mkdir()

    def claims_module(self, name: str, source: str) -> Path:
        path = self.root / "claims" / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    def options(self, *args: str, reports: Path | str | None = "out") -> list[str]:
        extra = ["--gdcut-registry", str(self.root / "registry.toml"), "-p", "no:cacheprovider"]
        if reports is not None:
            extra += ["--gdcut-reports", str(self.root / reports)]
        return [*args, *extra]

    def run(self, *args: str, reports: Path | str | None = "out", **kwargs) -> pytest.RunResult:
        return self.pytester.runpytest(*self.options(*args, reports=reports), **kwargs)

    def run_subprocess(self, *args: str) -> pytest.RunResult:
        # A guard against a hung child, not a speed limit: each nested pytest imports
        # torch, which takes minutes when another process keeps every core busy.
        return self.pytester.runpytest_subprocess(*self.options(*args), timeout=HANG_GUARD_S)

    def ledger_text(self) -> str:
        return (self.out / "ledger.json").read_text(encoding="utf-8")

    def ledger(self) -> dict:
        return json.loads(self.ledger_text(), parse_constant=_reject_constant)

    def html(self) -> str:
        return (self.out / "ledger.html").read_text(encoding="utf-8")

    def claims(self) -> dict[str, dict]:
        return {claim["id"]: claim for claim in self.ledger()["claims"]}

    def verdicts(self) -> dict[str, str]:
        return {claim_id: claim["verdict"] for claim_id, claim in self.claims().items()}


def _reject_constant(name: str):
    raise ValueError(f"ledger.json contains the non-standard JSON constant {name}")


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    return Project(pytester)


def test_the_plugin_registers_its_markers_so_strict_markers_accepts_them(project):
    project.pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    project.claims_module("test_marked", """
        import pytest

        @pytest.mark.fast
        @pytest.mark.slow
        @pytest.mark.claim("S1")
        def test_analytic():
            pass

        @pytest.mark.gpu
        @pytest.mark.claim("S3", refutes=True)
        def test_deep():
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    result.assert_outcomes(passed=2)
    markers = project.pytester.runpytest("--markers", "-p", "no:cacheprovider").stdout.str()
    assert all(f"@pytest.mark.{name}" in markers for name in ("fast", "gpu", "claim(id, refutes=False, decides=False)", "slow",
                                                               "gdcut_training"))


# --------------------------------------------------------------------------- verdict rules
def test_every_verdict_rule_end_to_end(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    result = project.run("claims")
    result.assert_outcomes(passed=5, failed=1, errors=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    claims = project.claims()
    assert {claim_id: claim["verdict"] for claim_id, claim in claims.items()} == EXPECTED_VERDICTS
    assert list(claims) == list(REGISTRY)

    assert claims["S1"]["complete"] and claims["S3"]["complete"]
    assert claims["S1"]["evidence"] == [{
        "name": "upper point", "measured": 0.0053, "paper": 0.0053, "paper_where": "§1", "unit": "1", "condition": "alpha=0.01",
        "test": "claims/test_verdicts.py::test_holds", "count": 1, "cell": "", "reading": False, "agreement": "agrees",
        "relative_difference": 0.0,
        "criterion": "≈ 0.0053 (within 5%)", "counts_as": "supports", "basis": "comparison",
    }]
    assert claims["S3"]["sentence"] == "Holds when float64, and fails when float32."
    assert claims["S3"]["sides"] == {"supports": ["float64"], "refutes": ["float32"], "inconclusive": [], "aside": []}
    assert claims["S1"]["notes"] == ["holds as stated"]
    assert claims["S1"]["parameters"][0]["name"] == "alpha"
    assert claims["S3"]["conditions"] == ["supporting: float64", "refuting: float32"]
    assert claims["C1"]["verdict_reasons"] == ["claims/test_verdicts.py::test_fails failed"]
    assert "the claim broke" in claims["C1"]["tests"][0]["reason"]
    assert claims["C2"]["tests"][0]["outcome"] == "error"
    assert "fixture broke" in claims["C2"]["tests"][0]["reason"]
    assert claims["C3"]["verdict_reasons"] == ["needs CUDA"]
    assert claims["X1"]["verdict_reasons"] == [REGISTRY["X1"]]


def test_passing_run_with_no_failures_exits_zero(project):
    project.claims_module("test_ok", """
        import pytest

        @pytest.mark.claim("S1")
        def test_ok():
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.OK
    assert project.verdicts()["S1"] == "holds"
    result.stdout.fnmatch_lines(["gdcut claims ledger: *ledger.html (1 holds, * not-encoded, 1 not-testable)"])


DECISION_MODULE = """
import pytest
from gdcut import rules

def ruling(decision):
    return rules.Ruling(decision, "planted rule", "planted statistic", "planted threshold", 5, {"mean": 0.5},
                        "planted void run" if decision == "inconclusive" else "")

@pytest.mark.claim("S1")
def test_supports(evidence):
    evidence.decision("depth 11", ruling("supports"))
    evidence.decision("depth 19", ruling("supports"))

@pytest.mark.claim("S2", refutes=True)
def test_void(evidence):
    evidence.decision("depth 11", ruling("inconclusive"))

@pytest.mark.claim("S3")
def test_mixed(evidence):
    evidence.decision("with BN", ruling("supports"))
    evidence.decision("without BN", ruling("refutes"))

@pytest.mark.claim("C1")
def test_nan_statistic(evidence):
    evidence.decision("depth 11", rules.Ruling("supports", "r", "s", "t", 5, {"mean": float("nan")}))
"""


def test_a_row_counts_as_the_cell_it_names_or_as_the_second_reading_it_declares(project):
    project.claims_module("test_rows", """
        import pytest
        from gdcut import rules

        @pytest.mark.claim("S3")
        def test_mixed(evidence):
            evidence.measure("deciding row", 1.0, paper=None, cell="without BN")
            evidence.measure("fresh-state row", 2.0, paper=None, reading=True)
            evidence.measure("plain row", 3.0, paper=None)
            evidence.decision("with BN", rules.Ruling("supports", "r", "s", "t", 5, {"mean": 0.5}))
            evidence.decision("without BN", rules.Ruling("refutes", "r", "s", "t", 5, {"mean": 0.5}))
    """)
    project.run("claims")
    rows = {r["name"]: r["counts_as"] for r in project.claims()["S3"]["evidence"]}
    assert rows == {"deciding row": "refutes", "fresh-state row": "reading", "plain row": "decides"}


def test_a_record_naming_a_cell_its_test_never_decides_makes_the_test_error(project):
    # a typo (two spaces) in a row's cell would count for nothing unseen: the evidence fixture fails the test
    project.claims_module("test_typo", """
        import pytest
        from gdcut import rules

        @pytest.mark.claim("S3")
        def test_typo(evidence):
            evidence.measure("misnamed row", 2.5, paper=None, cell="without  BN")
            evidence.decision("without BN", rules.Ruling("refutes", "r", "s", "t", 5, {"mean": 0.5}))
    """)
    result = project.run("claims")
    result.assert_outcomes(passed=1, errors=1)
    assert project.verdicts()["S3"] == "unexpected"


def test_a_test_marked_decides_that_records_no_decision_fails(project):
    # a branch that skips evidence.decision would otherwise count as a plain pass: a support no rule gave
    project.claims_module("test_silent", """
        import pytest
        from gdcut import rules

        @pytest.mark.claim("S1", decides=True)
        @pytest.mark.parametrize("records", [True, False])
        def test_branch(evidence, records):
            if records:
                evidence.decision("cell", rules.Ruling("supports", "r", "s", "t", 5, {"mean": 0.5}))

        @pytest.mark.claim("S2", decides=True)
        def test_skipped(evidence):
            pytest.skip("not at this scale")
    """)
    result = project.run("claims")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*test_branch?False? is marked claim(..., decides=True) but recorded no "
                                 "evidence.decision*"])
    assert project.verdicts()["S1"] == "unexpected"


def test_decisions_decide_the_verdict_and_every_decision_passes(project):
    project.claims_module("test_decisions", DECISION_MODULE)
    result = project.run("claims")
    result.assert_outcomes(passed=3, failed=1)
    claims = project.claims()
    verdicts = {claim_id: claims[claim_id]["verdict"] for claim_id in ("S1", "S2", "S3", "C1")}
    assert verdicts == {"S1": "holds", "S2": "inconclusive", "S3": "conditional", "C1": "unexpected"}
    assert claims["S2"]["verdict_reasons"] == ["inconclusive: depth 11 (planted void run)"]
    assert claims["S3"]["verdict_reasons"] == ["supports: with BN", "refutes: without BN"]
    [group] = claims["S1"]["decisions"]
    assert (group["rule"], group["statistic"], group["threshold"]) == ("planted rule", "planted statistic",
                                                                      "planted threshold")
    assert [(c["condition"], c["decision"], c["n"]) for c in group["cells"]] == [("depth 11", "supports", 5),
                                                                                ("depth 19", "supports", 5)]
    assert claims["S1"]["tests"][0]["role"] == "decides"
    html = (project.out / "ledger.html").read_text(encoding="utf-8")
    assert 'class="v v-inconclusive"' in html and "planted threshold" in html


CERTIFICATE_MODULE = """
import pytest

@pytest.mark.claim("S1", refutes=True)
def test_uncertified_counterexample_to_a_limit(evidence):
    evidence.premise("β0 off the lattice", True)

@pytest.mark.claim("S2", refutes=True)
def test_certified_counterexample_to_a_limit(evidence):
    evidence.premise("β0 off the lattice", True)
    evidence.certificate("cycle", 0, 0, True, "β_{N+2} = β_N exactly")
    evidence.origin("search", "hypothesis target()")

@pytest.mark.claim("S3", refutes=True)
def test_failed_certificate(evidence):
    evidence.certificate("stationarity", 0.5, 1e-9, False)

@pytest.mark.claim("C1", refutes=True)
def test_outside_the_premise(evidence):
    evidence.premise("parameters in a continuous dtype", False)

@pytest.mark.claim("C1")
def test_support(evidence):
    evidence.caveat("bfloat16 freezes entries")
"""


def test_a_refuting_test_without_a_certificate_is_reported_inconclusive(project):
    """Rules 1 and 4: a limit claim's counterexample needs a certificate; one outside the premise is void."""
    toml = registry_toml(REGISTRY)
    for claim_id in ("S1", "S2", "S3"):  # claims about a limit
        toml = toml.replace(f'id = "{claim_id}"', f'id = "{claim_id}"\nlimit = true')
    (project.root / "registry.toml").write_text(toml, encoding="utf-8")
    project.claims_module("test_certificates", CERTIFICATE_MODULE)
    result = project.run("claims")
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.OK
    claims = project.claims()
    verdicts = {claim_id: claims[claim_id]["verdict"] for claim_id in ("S1", "S2", "S3", "C1")}
    assert verdicts == {"S1": "inconclusive", "S2": "refuted", "S3": "inconclusive", "C1": "holds"}
    assert "without a convergence certificate" in claims["S1"]["verdict_reasons"][0]
    assert claims["S1"]["limit"] and claims["S1"]["tests"][0]["counts_as"] == "inconclusive"
    assert claims["S2"]["certificates"][0]["certificate"] == "cycle"
    assert claims["S2"]["origins"] == [{"how": "search", "detail": "hypothesis target()",
                                        "test": "claims/test_certificates.py::test_certified_counterexample_to_a_limit"}]
    assert [c["text"] for c in claims["C1"]["caveats"]] == [
        "bfloat16 freezes entries", "outside the premise: parameters in a continuous dtype"]
    assert [t["counts_as"] for t in claims["C1"]["tests"]] == ["void", "supports"]
    html = project.html()
    assert "<b>Caveats</b>" in html and "β_{N+2} = β_N exactly" in html


def test_an_inconclusive_claim_alone_exits_zero(project):
    project.claims_module("test_void", DECISION_MODULE.split('@pytest.mark.claim("S3")')[0])
    result = project.run("claims", "-k", "void")
    assert result.ret == pytest.ExitCode.OK
    assert project.verdicts()["S2"] == "inconclusive"


def test_fixture_error_alone_fails_the_run(project):
    project.claims_module("test_fixture", """
        import pytest

        @pytest.fixture
        def data():
            raise OSError("no data")

        @pytest.mark.claim("C2")
        def test_needs_data(data):
            pass
    """)
    result = project.run("claims")
    result.assert_outcomes(errors=1)
    assert result.ret != 0
    assert project.verdicts()["C2"] == "unexpected"


# --------------------------------------------------------------------------- partial runs
@pytest.mark.parametrize("selection", [("-k", "test_holds and not too"), ("-m", "not fast")], ids=["-k", "-m"])
def test_partial_run_lists_every_claim_and_deselected_ones_are_not_run(project, selection):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    project.run("claims", *selection)
    claims = project.claims()
    assert list(claims) == list(REGISTRY)
    if selection[0] == "-k":
        ran = {"S1"}
        assert claims["S1"]["verdict"] == "holds" and not claims["S1"]["complete"]
        assert [t["nodeid"] for t in claims["S1"]["tests"]] == ["claims/test_verdicts.py::test_holds"]
    else:
        ran = {"S1", "S2", "S3", "C1", "C2", "C3"}
        # The refuting half of S3 is deselected: the run shows only the supporting half.
        assert claims["S3"]["verdict"] == "holds" and not claims["S3"]["complete"]
    for claim_id in {"S2", "S3", "C1", "C2", "C3"} - ran:
        assert claims[claim_id]["verdict"] == "not-run"
        assert "not selected" in claims[claim_id]["verdict_reasons"][0]
    assert claims["C4"]["verdict"] == "not-encoded"
    assert claims["X1"]["verdict"] == "not-testable"


PARAMETRISED_MODULE = """
import pytest

@pytest.mark.claim("S1")
@pytest.mark.parametrize("optimiser", ["sgd", "adam"])
def test_row(optimiser):
    pass
"""


def test_a_deselected_parameter_leaves_its_claim_partial_and_the_card_names_it(project):
    project.claims_module("test_rows", PARAMETRISED_MODULE)
    project.run("claims", "-k", "not adam")
    card = project.claims()["S1"]
    assert card["verdict"] == "holds" and not card["complete"]
    assert card["unrun"] == ["claims/test_rows.py::test_row[adam]"]
    assert "(partial: 1 of its tests did not run" in card["sentence"]
    project.run("claims")
    assert project.claims()["S1"]["complete"]


def test_a_deselected_parameter_is_known_to_the_controller_of_xdist_workers(project):
    project.claims_module("test_rows", PARAMETRISED_MODULE)
    project.run_subprocess("claims", "-n", "2", "-k", "not adam")
    card = project.claims()["S1"]
    assert not card["complete"] and card["unrun"] == ["claims/test_rows.py::test_row[adam]"]


def test_claim_option_selects_only_that_claims_tests(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    result = project.run("claims", "--claim", "S3")
    result.assert_outcomes(passed=2, deselected=6)
    verdicts = project.verdicts()
    assert verdicts["S3"] == "conditional"
    assert {verdicts[c] for c in ("S1", "S2", "C1", "C2", "C3")} == {"not-run"}


def test_unknown_claim_option_is_a_usage_error(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    result = project.run("claims", "--claim", "Z9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown claim ID(s) ['Z9']" in result.stderr.str()
    assert not project.out.exists()


@pytest.mark.slow
def test_xdist_gives_the_serial_verdicts_and_evidence(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    project.claims_module("test_figures", """
        import matplotlib.pyplot as plt
        import numpy as np
        import pytest

        @pytest.mark.claim("S1")
        @pytest.mark.parametrize("seed", range(4))
        def test_figure(seed, evidence):
            fig, ax = plt.subplots(figsize=(2, 2))
            ax.plot(np.random.default_rng(seed).normal(size=50))
            evidence.figure(fig, caption=f"seed {seed}")
            evidence.measure(f"mean, seed {seed}", float(np.random.default_rng(seed).normal(size=50).mean()), paper=None)
    """)
    serial = project.run("claims")
    serial_claims = project.claims()
    parallel = project.run_subprocess("claims", "-n", "2")
    assert parallel.ret == serial.ret == pytest.ExitCode.TESTS_FAILED
    parallel_claims = project.claims()
    assert project.ledger()["provenance"]["xdist workers"] == "2"

    def comparable(claim: dict) -> dict:
        timing_free = {k: v for k, v in claim.items()
                       if k not in ("time_s", "test_time_s", "training_s", "run")}  # "run": which run made it
        timing_free["tests"] = [{k: v for k, v in t.items() if k != "duration_s"} for t in claim["tests"]]
        return timing_free

    assert {k: comparable(c) for k, c in parallel_claims.items()} == {k: comparable(c) for k, c in serial_claims.items()}
    assert len(parallel_claims["S1"]["figures"]) == 4


def test_xdist_provenance_comes_from_a_worker_and_the_controller_never_imports_torch(project):
    # The worker's own setting must reach the ledger: the controller runs no test, so it has no say.
    project.claims_module("test_flags", """
        import pytest
        import torch

        @pytest.mark.claim("S1")
        def test_sets_a_flag():
            torch.set_float32_matmul_precision("medium")
    """)
    (project.root / "controller_probe.py").write_text(textwrap.dedent("""
        import sys

        def pytest_unconfigure(config):
            if not hasattr(config, "workerinput"):
                with open(config.rootpath / "controller_modules.txt", "w") as out:
                    out.write(" ".join(name for name in ("torch", "gdcut.data") if name in sys.modules))
    """), encoding="utf-8")
    result = project.pytester.runpytest_subprocess(*project.options("claims", "-n", "1", "-p", "controller_probe"),
                                                   timeout=HANG_GUARD_S)
    assert result.ret == pytest.ExitCode.OK
    assert (project.root / "controller_modules.txt").read_text() == ""
    provenance = project.ledger()["provenance"]
    assert provenance["float32 matmul precision"] == "medium"
    assert provenance["device"].startswith(("cpu: ", "cuda: ")) and provenance["deep-net data"]


def test_workers_facts_combine_into_one_value_or_say_they_vary():
    from gdcut.ledger import provenance

    first = {"cuda": False, "device": "cpu: x86_64", "float32 matmul precision": "highest"}
    second = dict(first, **{"float32 matmul precision": "medium"})
    assert provenance.combined_facts([first, first]) == first
    combined = provenance.combined_facts([first, second])
    assert combined["device"] == "cpu: x86_64" and combined["cuda"] is False
    assert combined["float32 matmul precision"] == "varies across workers: highest | medium"
    assert provenance.combined_facts([first, dict(first, cuda=True)])["cuda"] is True


def test_interrupted_run_writes_the_ledger_with_the_rest_not_run(project):
    project.claims_module("test_interrupt", """
        import pytest

        @pytest.mark.claim("S1")
        def test_first():
            pass

        @pytest.mark.claim("S2")
        def test_interrupts():
            raise KeyboardInterrupt

        @pytest.mark.claim("S3")
        def test_never_reached():
            pass
    """)
    result = project.run("claims", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    verdicts = project.verdicts()
    assert verdicts["S1"] == "holds"
    assert verdicts["S2"] == verdicts["S3"] == "not-run"
    assert project.ledger()["provenance"]["exit status"] == int(pytest.ExitCode.INTERRUPTED)


# --------------------------------------------------------------------------- collection
def test_collection_error_in_a_claims_module_makes_its_claims_unexpected(project):
    project.claims_module("test_good", """
        import pytest

        @pytest.mark.claim("S1")
        def test_fine():
            pass
    """)
    project.claims_module("test_broken", """
        import pytest
        import gdcut_module_that_does_not_exist

        @pytest.mark.claim("C1")
        def test_a():
            pass

        @pytest.mark.claim("C2", refutes=True)
        def test_b():
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest stops on collection errors
    claims = project.claims()
    assert claims["C1"]["verdict"] == claims["C2"]["verdict"] == "unexpected"
    assert "gdcut_module_that_does_not_exist" in claims["C1"]["tests"][0]["reason"]
    assert claims["S1"]["verdict"] == "not-run"


def test_syntax_error_in_a_claims_module_still_writes_the_ledger(project):
    project.claims_module("test_syntax", """
        import pytest

        @pytest.mark.claim("C1")
        def test_a(:
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str()
    assert project.verdicts()["C1"] == "unexpected"


def test_unknown_claim_id_is_a_collection_error(project):
    project.claims_module("test_unknown", """
        import pytest

        @pytest.mark.claim("Z9")
        def test_unknown_id():
            pass

        @pytest.mark.claim("S1")
        def test_known_id():
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*test_unknown_id: unknown claim ID 'Z9' (not in the registry)*"])
    claims = project.claims()
    assert claims["S1"]["verdict"] == "unexpected"  # its module did not collect
    assert claims["S1"]["tests"][0]["outcome"] == "error"


def test_claims_test_without_claim_marker_is_a_collection_error(project, pytester):
    project.claims_module("test_unmarked", """
        def test_forgot_the_marker():
            pass
    """)
    pytester.mkdir("tests").joinpath("test_plain.py").write_text("def test_plain():\n    pass\n")
    result = project.run("claims", "tests")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*test_forgot_the_marker: every test in claims/ needs @pytest.mark.claim*"])
    result.stdout.no_fnmatch_line("*test_plain*needs*")


def test_malformed_claim_marker_is_a_collection_error(project):
    project.claims_module("test_malformed", """
        import pytest

        @pytest.mark.claim("S1", "S2")
        def test_two_ids_in_one_marker():
            pass
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*test_two_ids_in_one_marker: claim marker must be claim(\"ID\")*"])


# --------------------------------------------------------------------------- output
HOSTILE_MODULE = f"""
import matplotlib.pyplot as plt
import pytest

HOSTILE = {HOSTILE!r}

@pytest.mark.claim("S1")
@pytest.mark.parametrize("case", [HOSTILE], ids=[{HOSTILE_ID!r}])
def test_hostile(evidence, case):
    evidence.note(HOSTILE)
    evidence.condition(HOSTILE)
    evidence.parameter(HOSTILE, HOSTILE, note=HOSTILE)
    evidence.measure(HOSTILE, measured=HOSTILE, paper=HOSTILE, unit=HOSTILE, condition=HOSTILE)
    evidence.table(HOSTILE, header=[HOSTILE], rows=[[HOSTILE]])
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(HOSTILE)
    evidence.figure(fig, caption=HOSTILE)

@pytest.mark.claim("C1")
def test_hostile_failure():
    assert False, HOSTILE

@pytest.mark.claim("C3")
def test_hostile_skip():
    pytest.skip(HOSTILE)
"""


def test_hostile_strings_are_escaped_in_html_and_exact_in_json(pytester):
    project = Project(pytester, title=HOSTILE)
    project.claims_module("test_hostile", HOSTILE_MODULE)
    project.run("claims")
    claims = project.claims()
    s1 = claims["S1"]
    assert s1["title"] == f"S1: {HOSTILE}"
    assert s1["notes"] == [HOSTILE]
    assert s1["conditions"] == [f"supporting: {HOSTILE}"]
    assert s1["parameters"][0]["name"] == s1["parameters"][0]["value"] == s1["parameters"][0]["note"] == HOSTILE
    assert {s1["evidence"][0][k] for k in ("name", "measured", "paper", "unit", "condition")} == {HOSTILE}
    assert s1["tables"][0]["caption"] == s1["tables"][0]["header"][0] == s1["tables"][0]["rows"][0][0] == HOSTILE
    assert s1["figures"][0]["caption"] == HOSTILE
    assert s1["tests"][0]["nodeid"] == f"claims/test_hostile.py::test_hostile[{HOSTILE_ID}]"
    assert HOSTILE in claims["C1"]["tests"][0]["reason"]
    assert claims["C3"]["verdict_reasons"] == [HOSTILE]

    html = project.html()
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert html.count("<script") == 1  # the page's own filter script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "ünïcødé λ₁ ∞" in html


def test_json_top_level_and_claim_shape(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    project.run("claims")
    ledger = project.ledger()
    # "runs" (which run each card comes from) and "summary" (counts, overview) sit beside the specified keys,
    # and "merge_input" (the per-test results gdcut-ledger merge recomputes verdicts from) after them.
    assert list(ledger) == ["schema", "generated_at", "run", "provenance", "runs", "summary", "rulebook", "docs_root",
                            "claims", "merge_input"]
    assert ledger["schema"] == 4
    assert list(ledger["runs"]) == [ledger["run"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", ledger["generated_at"])
    assert isinstance(ledger["provenance"], dict) and "git commit" in ledger["provenance"]
    assert len(ledger["claims"]) == len(REGISTRY)
    for claim in ledger["claims"]:
        assert {"id", "title", "where", "kind", "verdict", "sentence", "sides", "run", "conditions", "decisions",
                "evidence", "notes", "tests", "rerun"} <= set(claim)
        assert claim["run"] == ledger["run"]
        assert set(claim["where"]) == {"v1", "v2"}
        assert isinstance(claim["conditions"], list) and isinstance(claim["notes"], list)
        for row in claim["evidence"]:
            assert {"name", "measured", "paper", "unit", "condition", "count", "agreement"} <= set(row)
        for test in claim["tests"]:
            assert {"nodeid", "outcome", "refutes", "role", "duration_s"} <= set(test)
            assert test["outcome"] in ("passed", "failed", "error", "skipped")
            assert isinstance(test["refutes"], bool) and isinstance(test["duration_s"], float)
    assert ledger["summary"]["by_verdict"]["unexpected"] == 2


def test_html_is_self_contained_with_figures_as_data_uris(project):
    project.claims_module("test_figure", """
        import matplotlib.pyplot as plt
        import pytest

        @pytest.mark.claim("S1")
        def test_figure(evidence):
            fig, ax = plt.subplots()
            ax.plot([0, 1, 4, 9])
            evidence.figure(fig, caption="a curve")
            evidence.note("see https://example.org/paper for the source")
    """)
    project.run("claims")
    html = project.html()
    assert "<link" not in html
    assert not re.search(r"<script[^>]*\ssrc", html)
    assert not re.search(r"""\s(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(sources) == 1 and sources[0].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(sources[0].split(",", 1)[1]).decode("utf-8")
    assert "<svg" in svg and svg == project.claims()["S1"]["figures"][0]["svg"]


def test_nan_and_inf_values_keep_the_json_standard(project):
    project.claims_module("test_nan", """
        import numpy as np
        import pytest
        import torch

        @pytest.mark.claim("S1")
        def test_non_finite(evidence):
            evidence.measure("nan", float("nan"), paper="infinity")
            evidence.measure("numpy nan", np.float64("nan"), paper="minus infinity")
            evidence.measure("torch inf", torch.tensor(float("inf")), paper=None)
            evidence.parameter("grid", np.array([1.0, np.nan, -np.inf]))
            evidence.table("t", header=["x"], rows=[[float("nan")]])
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.OK
    claim = project.claims()["S1"]  # parses with NaN/Infinity constants rejected
    assert [(e["measured"], e["paper"]) for e in claim["evidence"]] == [
        ("nan", "inf"), ("nan", "-inf"), ("inf", None)]
    assert claim["parameters"][0]["value"] == [1.0, "nan", "-inf"]
    assert claim["tables"][0]["rows"] == [["nan"]]
    assert not math.isnan(claim["tests"][0]["duration_s"])


def test_unwritable_reports_dir_fails_clearly_without_partial_files(project):
    project.claims_module("test_ok", """
        import pytest

        @pytest.mark.claim("S1")
        def test_ok():
            pass
    """)
    # chmod does not stop root; a regular file where a directory must go stops everyone.
    blocker = project.root / "afile"
    blocker.write_text("not a directory")
    result = project.run("claims", reports="afile/reports")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["gdcut: could not write the claims ledger to *afile/reports*"])
    assert blocker.read_text() == "not a directory"
    assert not list(project.root.rglob("ledger*")) and not list(project.root.rglob("*.tmp"))


def test_runs_without_claims_and_collect_only_runs_do_not_write_a_ledger(project, pytester):
    project.claims_module("test_ok", """
        import pytest

        @pytest.mark.claim("S1")
        def test_ok():
            pass
    """)
    pytester.mkdir("tests").joinpath("test_plain.py").write_text("def test_plain():\n    pass\n")
    default_reports = project.root / "reports"
    assert project.run("tests", reports=None).ret == pytest.ExitCode.OK
    assert project.run("tests/test_plain.py::test_plain", reports=None).ret == pytest.ExitCode.OK
    assert not default_reports.exists()
    assert project.run("claims", "--collect-only", reports=None).ret == pytest.ExitCode.OK
    assert project.run("claims", "--collect-only").ret == pytest.ExitCode.OK
    assert not default_reports.exists() and not project.out.exists()
    assert project.run("claims/test_ok.py", reports=None).ret == pytest.ExitCode.OK
    assert (default_reports / "ledger.json").is_file() and (default_reports / "ledger.html").is_file()


def test_history_keeps_the_newest_thirty(project):
    project.claims_module("test_ok", """
        import pytest

        @pytest.mark.claim("S1")
        def test_ok():
            pass
    """)
    history = project.out / "history"
    history.mkdir(parents=True)
    old = [history / f"ledger-20200101T0000{second:02d}Z-1.json" for second in range(35)]
    for path in old:
        path.write_text("{}")
    project.run("claims")
    kept = sorted(history.glob("*.json"))
    assert len(kept) == 30
    assert kept[:-1] == old[6:]  # the oldest six made room
    assert json.loads(kept[-1].read_text()) == project.ledger()
    assert kept[-1].with_suffix(".html").read_text() == project.html()  # history keeps the page too
    assert "Verdicts across runs" in (project.out / "history.html").read_text()


def test_evidence_fixture_needs_a_claim_marker(project, pytester):
    pytester.mkdir("tests").joinpath("test_plain.py").write_text("def test_records(evidence):\n    pass\n")
    result = project.run("tests", reports=None)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the evidence fixture needs a test with @pytest.mark.claim*"])


# --------------------------------------------------------------------------- robustness (issue 6)
def test_a_test_raising_inside_the_evidence_api_is_unexpected_and_the_ledger_survives(project):
    project.claims_module("test_bad_evidence", """
        import pytest

        @pytest.mark.claim("S1")
        def test_records_an_object(evidence):
            evidence.measure("fine", 1.0, paper=None)
            evidence.measure("not JSON-able", object(), paper=None)

        @pytest.mark.claim("S2")
        def test_names_a_foreign_claim(evidence):
            evidence.note("about another claim", claim="S3")

        @pytest.mark.claim("S3")
        def test_unaffected(evidence):
            evidence.measure("ok", 2.0, paper=None)
    """)
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    claims = project.claims()
    assert claims["S1"]["verdict"] == claims["S2"]["verdict"] == "unexpected"
    assert claims["S3"]["verdict"] == "holds"
    assert [row["name"] for row in claims["S1"]["evidence"]] == ["fine"]  # what was recorded before the error stays


@pytest.mark.slow
def test_a_worker_that_dies_under_xdist_makes_its_claim_unexpected(project):
    project.claims_module("test_crash", """
        import os
        import pytest

        @pytest.mark.claim("S1")
        def test_kills_its_worker():
            os._exit(3)

        @pytest.mark.claim("S2")
        def test_survivor(evidence):
            evidence.measure("ok", 1.0, paper=None)
    """)
    result = project.run_subprocess("claims", "-n", "2")
    assert result.ret != pytest.ExitCode.OK
    verdicts = project.verdicts()
    assert verdicts["S1"] == "unexpected"
    assert verdicts["S2"] == "holds"


# --------------------------------------------------------------------------- partial runs over a full ledger
def test_a_one_claim_run_after_a_full_run_keeps_every_verdict_and_says_so(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    project.run("claims")
    full = project.verdicts()
    result = project.run("claims", "--claim", "S3")
    assert project.verdicts() == full
    claims, ledger = project.claims(), project.ledger()
    assert claims["S3"]["run"] == ledger["run"]
    assert claims["S1"]["run"] != ledger["run"] and claims["S1"]["run"] in ledger["runs"]
    assert len(ledger["runs"]) == 2
    assert "This page combines 2 runs." in project.html()
    result.stdout.fnmatch_lines(["S3   conditional  Holds when float64, and fails when float32.",
                                 "C4   not-encoded  Not encoded: no test is linked to this claim yet.", "*",
                                 "gdcut: 5 card(s) this run did not select are carried over*"])
    assert "C1" not in result.stdout.str().split("short test summary")[-1].split("gdcut claims ledger")[0]
    assert result.ret == pytest.ExitCode.OK  # C1's old "unexpected" card does not fail this run


def test_list_claims_prints_ids_and_titles_and_runs_nothing(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    result = project.run("--gdcut-list-claims")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["S1   test     S1: a claim", "S3   fast     S3: a claim", "C4   no test  C4: a claim",
                                 "X1   context  X1: a claim"])
    assert not project.out.exists()


def test_a_data_directory_that_does_not_exist_is_a_usage_error(project):
    project.claims_module("test_verdicts", VERDICT_MODULE)
    result = project.run("claims", "--gdcut-cifar10", str(project.root / "nonexistent"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--gdcut-cifar10: " in result.stderr.str() and "is not a directory" in result.stderr.str()
