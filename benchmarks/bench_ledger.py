"""Cost of writing the claims ledger: build_ledger + write_ledger (JSON, HTML, history copy).

Target (issue 2): the ledger is written in under 1 s for 60 claims. Two cases:
the shipped registry (every claim of the paper) and a synthetic 60-claim
registry; both with realistic evidence on every claim: three linked tests, ten
measures, conditions, parameters, a note, a small table and one figure of about
50 KB of SVG, the size of a few-hundred-point matplotlib curve.

Run explicitly (``testpaths`` and the ``test_*.py`` pattern keep it out of ``pytest``):
    pytest benchmarks/bench_ledger.py --benchmark-only
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from gdcut.ledger import registry, render
from gdcut.ledger.evidence import figure_svg
from gdcut.ledger.inventory import LinkedTest
from gdcut.ledger.registry import SECTIONS, Claim, PaperValue

TARGET_S = 1.0
SVG_BYTES = 50_000


@pytest.fixture(scope="module")
def svg() -> str:
    """A real matplotlib SVG of a noisy loss curve, trimmed in length to about SVG_BYTES."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = 300
    text = ""
    while len(text.encode()) < SVG_BYTES:
        fig, ax = plt.subplots(figsize=(4, 3))
        curve = np.cumsum(np.random.default_rng(0).normal(size=points))
        ax.plot(curve, label="ReLU")
        ax.plot(curve[::-1], label="GELU")
        ax.set_yscale("symlog")
        ax.legend()
        text = figure_svg(fig)
        plt.close(fig)
        points = int(points * 1.3)
    return text


def synthetic_registry(count: int) -> dict[str, Claim]:
    sections = list(SECTIONS)
    claims = {}
    for index in range(count):
        section = sections[index % len(sections)]
        claim_id = f"{section}{index + 1}"
        claims[claim_id] = Claim(
            id=claim_id, section=section, title=f"claim {index}: a statement of the paper",
            summary="What the paper asserts, in a few sentences of prose. " * 4, kind="simulation",
            where={"v1": f"§{index % 5}, Fig. {index}", "v2": f"§{index % 6}, eq. {index}"},
            paper_values=tuple(PaperValue(f"value {k}", 0.01 * k, "", "v2 §4") for k in range(5)),
            discrepancies=("v1 and v2 print different values",),
        )
    return claims


def evidence_run(claims: dict[str, Claim], svg: str) -> tuple[list[dict], dict[str, list[LinkedTest]]]:
    """Three reported tests per claim (two supporting, one refuting) with a full set of records."""
    results, inventory = [], {}
    for claim_id in claims:
        for test_index, refutes in enumerate((False, False, True)):
            nodeid = f"claims/test_{claim_id.lower()}.py::test_case_{test_index}"
            records = [{"kind": "condition", "claim": claim_id, "text": "float64, torch.optim.SGD, 64 seeds"}]
            records += [{"kind": "parameter", "claim": claim_id, "name": f"p{k}", "value": 0.1 * k, "note": "chosen"}
                        for k in range(3)]
            if test_index == 0:
                records += [{"kind": "measure", "claim": claim_id, "name": f"quantity {k}", "measured": 0.0053 + k,
                             "paper": 0.0053 + k, "unit": "", "condition": "α=0.01"} for k in range(10)]
                records.append({"kind": "note", "claim": claim_id, "text": "measured beside the closed form"})
                records.append({"kind": "table", "claim": claim_id, "caption": "Table 1 as measured",
                                "header": ["variant", "0 absorbing"], "rows": [["SGD", "yes"], ["Adam", "no"]]})
                records.append({"kind": "figure", "claim": claim_id, "caption": "Fig. 5 regenerated", "svg": svg,
                                "csv": "panel,series,x,y\n"})
            results.append({"nodeid": nodeid, "outcome": "passed", "duration_s": 0.25, "reason": "",
                            "claims": [[claim_id, refutes]], "records": records})
            inventory.setdefault(claim_id, []).append(LinkedTest(nodeid, refutes, frozenset({"claim", "fast"})))
    return results, inventory


PROVENANCE = {"git commit": "0" * 40, "command": "pytest claims -n 2", "python": "3.11", "device": "cpu"}


def write_full_ledger(claims, results, inventory, reports_dir):
    ledger = render.build_ledger(claims, results, inventory, PROVENANCE)
    return render.write_ledger(ledger, reports_dir)


@pytest.mark.parametrize("case", ["shipped registry", "synthetic 60 claims"])
def test_ledger_write_time(benchmark, svg, tmp_path, case):
    claims = registry.registry() if case == "shipped registry" else synthetic_registry(60)
    results, inventory = evidence_run(claims, svg)
    paths = benchmark.pedantic(write_full_ledger, args=(claims, results, inventory, tmp_path),
                               rounds=5, iterations=1, warmup_rounds=1)
    ledger = json.loads(paths[0].read_text(encoding="utf-8"))
    # The shipped registry's limit claims and declared open parameters set these uncertified, unswept cells aside.
    expected = {"conditional"} if case.startswith("synthetic") else {"conditional", "inconclusive"}
    assert len(ledger["claims"]) == len(claims) and {c["verdict"] for c in ledger["claims"]} <= expected
    html_bytes = paths[1].stat().st_size
    benchmark.extra_info.update(claims=len(claims), svg_bytes=len(svg.encode()), html_bytes=html_bytes,
                                json_bytes=paths[0].stat().st_size)
    assert html_bytes > len(claims) * len(svg.encode())  # every figure is inlined
    assert benchmark.stats["median"] < TARGET_S
