"""Assemble the claims ledger and write it as JSON and as one HTML page.

``build_ledger`` is a pure function from the registry, the test results of a
run and the source inventory to one JSON-able document; ``write_ledger``
renders that document through a single autoescaped Jinja2 template and writes
both files atomically, keeping a bounded history of past JSON ledgers.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from gdcut.ledger.inventory import LinkedTest
from gdcut.ledger.registry import SECTIONS, Claim
from gdcut.ledger.verdict import VERDICTS, Decision, Outcome, claim_verdict, counted_as, function_key

SCHEMA = 2  # 2: decisions per claim, the inconclusive verdict, test roles
RESULT_KEYS = frozenset({"nodeid", "outcome", "duration_s", "claims", "records"})
HISTORY_KEEP = 30


def _by_kind(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["kind"] == kind]


def _claim_entry(claim: Claim, results: list[dict], linked: list[LinkedTest]) -> dict:
    """One claim's card: verdict, conditions, evidence and tests."""
    # Reports arrive in completion order, which pytest-xdist changes from run to
    # run; listing tests in source order keeps ledgers of equal runs equal.
    position = {test.key: index for index, test in enumerate(linked)}
    results = sorted(results, key=lambda r: (position.get(function_key(r["nodeid"]), len(position)), r["nodeid"]))
    own_records = {
        r["nodeid"]: [dict(rec, test=r["nodeid"]) for rec in r["records"] if rec["claim"] == claim.id]
        for r in results
    }
    outcomes = [
        Outcome(r["nodeid"], r["outcome"], r["refutes"], r["duration_s"], r.get("reason", ""),
                tuple(Decision(d["condition"], d["decision"], d.get("reason", ""))
                      for d in _by_kind(own_records[r["nodeid"]], "decision")),
                tuple(p["text"] for p in _by_kind(own_records[r["nodeid"]], "premise") if not p["holds"]),
                tuple(c["holds"] for c in _by_kind(own_records[r["nodeid"]], "certificate")))
        for r in results
    ]
    verdict = claim_verdict(outcomes, frozenset(t.key for t in linked), claim.not_testable, claim.limit)
    records = []
    tests = []
    for result, result_outcome in zip(results, outcomes):
        own = own_records[result["nodeid"]]
        records.extend(own)
        tests.append({
            "nodeid": result["nodeid"],
            "outcome": result["outcome"],
            "refutes": result["refutes"],
            "role": "decides" if result_outcome.decisions else "refutes" if result["refutes"] else "supports",
            "duration_s": round(result["duration_s"], 3),
            "reason": result.get("reason", ""),
            "conditions": [r["text"] for r in _by_kind(own, "condition")],
            "counts_as": counted_as(result_outcome, claim.limit) if result["outcome"] == "passed" else "",
        })
    role = {t["nodeid"]: {"decides": "decided", "refutes": "refuting", "supports": "supporting"}[t["role"]]
            for t in tests}
    passed = {t["nodeid"] for t in tests if t["outcome"] == "passed"}
    conditions = list(dict.fromkeys(
        f"{role[r['test']]}: {r['text']}" for r in _by_kind(records, "condition") if r["test"] in passed
    ))
    gpu = any("gpu" in t.markers for t in linked)
    return {
        "id": claim.id,
        "title": claim.title,
        "section": claim.section,
        "section_name": SECTIONS[claim.section],
        "summary": claim.summary,
        "where": dict(claim.where),
        "kind": claim.kind,
        "verdict": verdict.verdict,
        "verdict_reasons": list(verdict.reasons),
        "complete": verdict.complete,
        "conditions": conditions,
        "decisions": _decisions(_by_kind(records, "decision"), passed),
        "evidence": [
            {key: r[key] for key in ("name", "measured", "paper", "unit", "condition", "test")}
            for r in _by_kind(records, "measure")
        ],
        "parameters": [{k: r[k] for k in ("name", "value", "note", "test")} for r in _by_kind(records, "parameter")],
        "notes": [r["text"] for r in _by_kind(records, "note")],
        "tables": [{k: r[k] for k in ("caption", "header", "rows", "test")} for r in _by_kind(records, "table")],
        "figures": [{k: r[k] for k in ("caption", "svg", "test")} for r in _by_kind(records, "figure")],
        # Issue 10: instances outside the premise, and what certifies each counterexample.
        "limit": claim.limit,
        "caveats": [{"text": r["text"], "test": r["test"]} for r in _by_kind(records, "caveat")]
        + [{"text": f"outside the premise: {r['text']}", "test": r["test"]}
           for r in _by_kind(records, "premise") if not r["holds"]],
        "premises": [{k: r[k] for k in ("text", "holds", "test")} for r in _by_kind(records, "premise")],
        "certificates": [{k: r[k] for k in ("certificate", "value", "tolerance", "holds", "detail", "test")}
                         for r in _by_kind(records, "certificate")],
        "origins": [{k: r[k] for k in ("how", "detail", "test")} for r in _by_kind(records, "origin")],
        "paper_values": [vars(v) for v in claim.paper_values],
        "discrepancies": list(claim.discrepancies),
        "not_testable": claim.not_testable,
        "tests": tests,
        "linked_tests": [{"test": t.key, "refutes": t.refutes} for t in linked],
        "time_s": round(sum(t["duration_s"] for t in tests), 3),
        "rerun": f"pytest claims --claim {claim.id}" + (" --gdcut-scale paper" if gpu else ""),
    }


def _decisions(records: list[dict], passed: set[str]) -> list[dict]:
    """Decisions of passed tests grouped by rule, rule first, then one row per cell."""
    groups: dict[tuple, dict] = {}
    for r in records:
        if r["test"] not in passed:
            continue
        group = groups.setdefault((r["rule"], r["statistic"], r["threshold"]), {
            "rule": r["rule"], "statistic": r["statistic"], "threshold": r["threshold"], "cells": []})
        group["cells"].append({key: r[key] for key in ("condition", "decision", "n", "values", "reason", "test")})
    return list(groups.values())


def build_ledger(registry: dict[str, Claim], results: list[dict], inventory: dict[str, list[LinkedTest]],
                 provenance: dict, generated_at: datetime | None = None) -> dict:
    """The whole ledger as JSON-able data.

    ``results``: one dict per test node that reported, with keys nodeid,
    outcome, duration_s, reason, claims (list of [id, refutes]) and records
    (evidence dicts).
    """
    generated_at = datetime.now(timezone.utc) if generated_at is None else generated_at
    if not isinstance(generated_at, datetime):
        raise ValueError(f"generated_at must be a datetime, got {type(generated_at).__name__}")
    if not isinstance(results, list):
        raise ValueError(f"results must be a list of test results, got {type(results).__name__}")
    for index, result in enumerate(results):
        missing = RESULT_KEYS - set(result) if isinstance(result, dict) else RESULT_KEYS
        if missing:
            raise ValueError(f"results[{index}] lacks {sorted(missing)}")
    per_claim: dict[str, list[dict]] = {claim_id: [] for claim_id in registry}
    orphans = []
    for result in results:
        for claim_id, refutes in result["claims"]:
            if claim_id in per_claim:
                per_claim[claim_id].append(dict(result, refutes=refutes))
            else:
                orphans.append(result["nodeid"])
    claims = [_claim_entry(claim, per_claim[claim.id], inventory.get(claim.id, [])) for claim in registry.values()]
    by_verdict = Counter(c["verdict"] for c in claims)
    by_section = {
        section: dict(Counter(c["verdict"] for c in claims if c["section"] == section))
        for section in SECTIONS
        if any(c["section"] == section for c in claims)
    }
    return {
        "schema": SCHEMA,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "provenance": provenance,
        "summary": {
            "claims": len(claims),
            "by_verdict": {v: by_verdict.get(v, 0) for v in VERDICTS},
            "by_section": by_section,
            "section_names": dict(SECTIONS),
            "unknown_claim_tests": orphans,
        },
        "claims": claims,
    }


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates 0600 files; a report is for everyone who can read the directory.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_html(ledger: dict) -> str:
    """The ledger as one self-contained HTML page (inline CSS, SVG as data URIs)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("gdcut.ledger", "."),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["b64"] = lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii")
    environment.filters["number"] = _format_number
    return environment.get_template("ledger.html.j2").render(ledger=ledger)


def _format_number(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_number(v) for v in value) + "]"
    return str(value)


def write_ledger(ledger: dict, reports_dir: Path) -> list[Path]:
    """Write ledger.json, ledger.html and a history copy; return the paths written."""
    reports_dir = Path(reports_dir)
    text = json.dumps(ledger, indent=1, ensure_ascii=False, allow_nan=False)
    html = render_html(ledger)
    json_path, html_path = reports_dir / "ledger.json", reports_dir / "ledger.html"
    _atomic_write(json_path, text)
    _atomic_write(html_path, html)
    history = reports_dir / "history"
    stamp = ledger["generated_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    # pid and a nanosecond clock: two ledgers of one process within a second keep distinct names.
    history_path = history / f"ledger-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**9:09d}.json"
    _atomic_write(history_path, text)
    for old in sorted(history.glob("ledger-*.json"))[:-HISTORY_KEEP]:
        old.unlink(missing_ok=True)
    return [json_path, html_path, history_path]
