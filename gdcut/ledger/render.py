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
import re
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

from gdcut.ledger import explain, preregistration, summary
from gdcut.ledger.evidence import jsonable
from gdcut.ledger.inventory import LinkedTest
from gdcut.ledger.registry import SECTIONS, Claim
from gdcut.ledger.verdict import VERDICTS, cells, claim_verdict, counted_as, function_key, outcome_from_result

SCHEMA = 4  # 2: decisions, the inconclusive verdict, test roles; 3: sentences, sides, runs, counts;
#   4: cells, counts_as on every row, caveat rows apart, rule digests, the summary's parts, attributed training
RESULT_KEYS = frozenset({"nodeid", "outcome", "duration_s", "claims", "records"})
HISTORY_KEEP = 30


def _by_kind(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["kind"] == kind]


def unique_records(records: list[dict]) -> list[dict]:
    """Identical records stored once, in first-seen order, each with the ``count`` of its copies.

    A Hypothesis property test records once per example: under ``thorough``
    that is up to 2000 copies of one condition or measurement.
    """
    counts: dict[str, list] = {}
    for record in records:
        key = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
        if key in counts:
            counts[key][1] += 1
        else:
            counts[key] = [record, 1]
    return [dict(record, count=count) for record, count in counts.values()]


#: What a cell or an ordinary test can count as (``verdict.COUNTS``), read by where the card shows it:
#: on the side it points to, under the caveats (it counts for nothing: outside the premise, at a bound),
#: or as a second reading. Any other count (inconclusive, or one added later) cannot speak.
SPEAKING = ("supports", "refutes")
SET_ASIDE = ("void", "caveat")
SECOND_READING = "reading"


def _side(count: str) -> str:
    """The side of the card a cell that counts as ``count`` is listed on."""
    if count in SPEAKING:
        return count
    if count in SET_ASIDE or count == SECOND_READING:
        return "aside"
    return "inconclusive"


def _sides(tests: list[dict]) -> dict[str, list[str]]:
    """The conditions on each side of the verdict: supports, refutes, inconclusive, and set aside.

    Each cell sits on the side it counts on after the rulebook (``verdict.cells``), not the
    side it points to: a refuting test that counts as inconclusive is listed as inconclusive.
    A decision cell is named by its condition; an ordinary test by the conditions it
    recorded, or, with none, by ``explain.UNSTATED`` (``UNSTATED_REFUTING`` for a refuting
    test), never by its docstring or its name. A counting decision shows its finding after it
    ("SGD, λ1 = 0.002 vs 2: 99.96% vs 0.17% ..., paper 99.89% vs 0.18%").
    """
    sides: dict[str, list[str]] = {"supports": [], "refutes": [], "inconclusive": [], "aside": []}
    for test in tests:
        for cell in test["cells"]:
            side = _side(cell["counts_as"])
            names = cell_names(test, cell)
            why = cell["reason"] if side in ("inconclusive", "aside") and cell["reason"] else ""
            found = cell.get("finding", "") if side in SPEAKING else ""
            sides[side].extend(f"{name} ({why})" if why else f"{name}: {found}" if found else name for name in names)
    return {side: list(dict.fromkeys(texts)) for side, texts in sides.items()}


def cell_names(test: dict, cell: dict) -> list[str]:
    """How a reader knows a cell: a decision by its condition, an ordinary test by the conditions it recorded,
    or, with none, by ``explain.UNSTATED`` (``UNSTATED_REFUTING`` for a refuting test), never by its name."""
    if test["role"] == "decides":
        return [cell["condition"]]
    return test["conditions"] or [explain.UNSTATED_REFUTING if test["refutes"] else explain.UNSTATED]


def _test_cells(outcome, book) -> list[dict]:
    """A passing test's cells after the rulebook, as card data: condition, what it counts as, why, where the paper
    states its setting, and the finding."""
    return [{"condition": c.condition, "counts_as": c.count, "reason": c.reason, "paper_setting": list(c.paper_setting),
             "finding": c.finding}
            for c in cells(outcome, book)]


def rerun_commands(claim_id: str, gpu: bool, scale: str) -> list[str]:
    """Commands that re-run one claim from the project root, the script first, then the venv's pytest."""
    scale_option = f" --gdcut-scale={scale}" if gpu else ""
    return [f"scripts/verify --claim={claim_id}{scale_option}",
            f".venv/bin/pytest claims --claim={claim_id}{scale_option}"]


def _row_count(row: dict, test: dict | None) -> tuple[str, str]:
    """What the test behind an evidence row counts as for this row, and why when it cannot speak.

    A row marked a second reading (``evidence.measure(reading=True)``) is one. A decision
    test's row that names one of its cells (``evidence.measure``'s ``cell``, else its
    condition) counts as that cell; one naming a cell the test did not decide cannot speak;
    any other row of a decision test is a second reading when all its cells are, and is
    measured beside the decisions when some cell of the test speaks.
    """
    if test is None or test["outcome"] != "passed":
        return "", ""
    if row.get("reading"):
        return SECOND_READING, "shown beside the decisions, not counted"
    if test["role"] != "decides":
        cell = test["cells"][0] if test["cells"] else {"counts_as": test["counts_as"], "reason": ""}
        return cell["counts_as"], cell["reason"]
    named = row.get("cell") or row["condition"]
    matching = [c for c in test["cells"] if c["condition"] == named]
    if matching:
        return matching[0]["counts_as"], matching[0]["reason"]
    if row.get("cell"):
        return "inconclusive", f"it names {named!r}, which its test did not decide"
    if test["cells"] and all(c["counts_as"] == SECOND_READING for c in test["cells"]):
        return SECOND_READING, test["cells"][0]["reason"]  # a float reading of an exact claim: its rows compare
    if any(c["counts_as"] in SPEAKING for c in test["cells"]):
        return "decides", ""
    reasons = list(dict.fromkeys(c["reason"] for c in test["cells"] if c["reason"]))
    return "inconclusive", "; ".join(reasons) or "no cell of its rule decided"


def _evidence_rows(records: list[dict], tests: list[dict]) -> list[dict]:
    """Measurements beside the paper's values, each with ``counts_as`` and the comparison made.

    A row whose run cannot speak (its test or cell counts as inconclusive, or for nothing)
    says so in ``agreement`` ("cannot speak") instead of agreeing or disagreeing. A row
    whose paper value is a statement no number can be read against is read by the test
    that recorded it: a supporting cell's row agrees, a refuting one's disagrees
    (``basis`` "the test's assertion").
    """
    by_test = {t["nodeid"]: t for t in tests}
    rows = []
    for r in records:
        row = {key: r[key] for key in ("name", "measured", "paper", "unit", "condition", "test", "count")}
        row["cell"], row["reading"] = r.get("cell", ""), r.get("reading", False)
        row["paper_where"] = r.get("paper_where", "")  # absent from records of ledgers before paper values had a place
        row.update(explain.compare(r["measured"], r["paper"]))
        row["counts_as"], why = _row_count(row, by_test.get(r["test"]))
        row["basis"] = "comparison" if row["agreement"] else ""
        if row["paper"] is not None and row["counts_as"] not in SPEAKING + ("decides", SECOND_READING):
            row.update(agreement="cannot speak", basis=why or f"its test counts as {row['counts_as'] or 'nothing'}")
        elif row["paper"] is not None and not row["agreement"] and row["counts_as"] in SPEAKING:
            row.update(agreement="agrees" if row["counts_as"] == "supports" else "disagrees",
                       basis="the test's assertion")
        rows.append(row)
    return rows


def _claim_entry(claim: Claim, results: list[dict], linked: list[LinkedTest], run: str, rerun_scale: str,
                 root: Path | None = None, training_s: float = 0.0,
                 collected: frozenset[str] | None = frozenset()) -> dict:
    """One claim's card: verdict, its sentence and sides, evidence and tests.

    ``collected``: the node IDs this run collected, selected or not, None when unknown (see ``build_ledger``)."""
    # Reports arrive in completion order, which pytest-xdist changes from run to
    # run; listing tests in source order keeps ledgers of equal runs equal.
    position = {test.key: index for index, test in enumerate(linked)}
    results = sorted(results, key=lambda r: (position.get(function_key(r["nodeid"]), len(position)), r["nodeid"]))
    own_records = {
        r["nodeid"]: unique_records([dict(rec, test=r["nodeid"]) for rec in r["records"] if rec["claim"] == claim.id])
        for r in results
    }
    book = claim.rulebook()
    outcomes = [outcome_from_result(r, own_records[r["nodeid"]]) for r in results]
    encoded = frozenset(t.key for t in linked)
    verdict = claim_verdict(outcomes, encoded, claim.not_testable, book, None if collected is None else
                            frozenset(n for n in collected if function_key(n) in encoded))
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
            "counts_as": counted_as(result_outcome, book) if result["outcome"] == "passed" else "",
            "cells": _test_cells(result_outcome, book) if result["outcome"] == "passed" else [],
            **preregistration.test_registration(function_key(result["nodeid"]), root),
        })
    role = {t["nodeid"]: {"decides": "decided", "refutes": "refuting", "supports": "supporting"}[t["role"]]
            for t in tests}
    passed = {t["nodeid"] for t in tests if t["outcome"] == "passed"}
    conditions = list(dict.fromkeys(
        f"{role[r['test']]}: {r['text']}" for r in _by_kind(records, "condition") if r["test"] in passed
    ))
    sides = _sides(tests)
    rows = _evidence_rows(_by_kind(records, "measure"), tests)
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
        "sentence": explain.verdict_sentence(verdict.verdict, sides, list(verdict.reasons), explain.partial_phrase(
            len(verdict.unrun), verdict.inconclusive_cells, verdict.void_cells, collected is not None)),
        "sides": sides,
        "verdict_reasons": list(verdict.reasons),
        "complete": verdict.complete,
        "unrun": list(verdict.unrun),
        "run": run,
        "conditions": conditions,
        "decisions": _decisions(_by_kind(records, "decision"), passed, root, tests),
        # Rows of tests that count for nothing (outside the premise, at a bound) sit under the caveats.
        "evidence": [row for row in rows if row["counts_as"] not in SET_ASIDE],
        "caveat_evidence": [row for row in rows if row["counts_as"] in SET_ASIDE],
        "parameters": [{k: r[k] for k in ("name", "value", "note", "test")} for r in _by_kind(records, "parameter")],
        "notes": list(dict.fromkeys(r["text"] for r in _by_kind(records, "note"))),
        "tables": [{k: r[k] for k in ("caption", "header", "rows", "test")} for r in _by_kind(records, "table")],
        "figures": [{k: r[k] for k in ("caption", "svg", "csv", "test")} for r in _by_kind(records, "figure")],
        # Issue 10: instances outside the premise, and what certifies each counterexample.
        "limit": claim.limit,
        "rulebook": _rulebook_entry(claim),
        "caveats": [{"text": r["text"], "test": r["test"]} for r in _by_kind(records, "caveat")]
        + [{"text": f"outside the premise: {r['text']}", "test": r["test"]}
           for r in _by_kind(records, "premise") if not r["holds"]],
        "premises": [{k: r[k] for k in ("text", "holds", "test")} for r in _by_kind(records, "premise")],
        "certificates": [{k: r[k] for k in ("certificate", "value", "tolerance", "holds", "detail", "test")}
                         for r in _by_kind(records, "certificate")],
        "origins": [{k: r[k] for k in ("how", "detail", "test")} for r in _by_kind(records, "origin")],
        "paper_values": [jsonable(vars(v)) for v in claim.paper_values],  # a TOML value may be inf
        "discrepancies": list(claim.discrepancies),
        "not_testable": claim.not_testable,
        "tests": tests,
        "linked_tests": [{"test": t.key, "refutes": t.refutes} for t in linked],
        "test_time_s": round(sum(t["duration_s"] for t in tests), 3),
        # the deep-net training its tests read from the cache, when training items ran it (-n, shards)
        "training_s": round(training_s, 3),
        "time_s": round(sum(t["duration_s"] for t in tests) + training_s, 3),
        "gpu": gpu,
        "rerun": rerun_commands(claim.id, gpu, rerun_scale),
    }


def _rulebook_entry(claim: Claim) -> dict:
    """What the registry declares about how the claim is decided (read defensively: older registries lack it)."""
    return {"limit": claim.limit,
            "quantifier": getattr(claim, "quantifier", ""),
            "arithmetic": getattr(claim, "arithmetic", ""),
            "open_parameters": [{"name": p.name, "natural": list(p.natural), "sweep": p.sweep}
                                for p in getattr(claim, "open_parameters", ())]}


def _decisions(records: list[dict], passed: set[str], root: Path | None = None,
               tests: list[dict] | None = None) -> list[dict]:
    """Decisions of passed tests grouped by rule, rule first, then one row per cell.

    Each cell also says what it counts as after the rulebook (``counts_as``, with the
    rulebook's reason where it differs from the rule's word). Each rule carries its
    pre-registration (``preregistration.registration``): a digest of its words and of the
    code that applies it, and the commit where that code last changed.
    """
    counted = {(t["nodeid"], c["condition"]): c for t in tests or [] for c in t["cells"]}
    groups: dict[tuple, dict] = {}
    for r in records:
        if r["test"] not in passed:
            continue
        group = groups.setdefault((r["rule"], r["statistic"], r["threshold"]), {
            "rule": r["rule"], "statistic": r["statistic"], "threshold": r["threshold"], "cells": []})
        cell = {key: r[key] for key in ("condition", "decision", "n", "values", "reason", "test", "count")}
        ruled = counted.get((r["test"], r["condition"]), {})
        cell["counts_as"] = ruled.get("counts_as", r["decision"])
        cell["rulebook_reason"] = ruled.get("reason", "") if cell["counts_as"] != r["decision"] else ""
        group["cells"].append(cell)
    for group in groups.values():
        tests = [function_key(cell["test"]) for cell in group["cells"]]
        group.update(preregistration.registration(group["rule"], group["statistic"], group["threshold"], tests, root))
    return list(groups.values())


#: A training item's name starts with the claims it trains for: "C5-6:…", "L18:…", "L19-20:…" (gdcut.program).
_TRAINED_FOR = re.compile(r"^([A-Z])(\d+)(?:-(\d+))?:")


def trained_for(nodeid: str) -> list[str]:
    """The claim IDs a training item (``gdcut-training::L19-20:v2-sgd…``) trains for, from its name."""
    match = _TRAINED_FOR.match(nodeid.split("::", 1)[-1])
    if not match:
        return []
    first = int(match.group(2))
    last = int(match.group(3) or first)
    return [f"{match.group(1)}{number}" for number in range(first, last + 1)]


def attribute_training(training: list[dict], claim_ids: set[str]) -> tuple[dict[str, float], float]:
    """Seconds of deep-net training per claim, each item shared equally by the claims it trains for.

    Returns the shares and the seconds of items no claim of ``claim_ids`` (those whose
    tests ran) can take: they count in the run's cost as training no claim ran.
    """
    shares: dict[str, float] = {}
    unattributed = 0.0
    for item in training:
        takers = [claim_id for claim_id in trained_for(item["nodeid"]) if claim_id in claim_ids]
        if not takers:
            unattributed += item["duration_s"]
            continue
        for claim_id in takers:
            shares[claim_id] = shares.get(claim_id, 0.0) + item["duration_s"] / len(takers)
    return shares, unattributed


def run_entry(generated_at: str, provenance: dict, work: dict | None = None) -> dict:
    """What the page says about one run: when, how, where, and the work outside the claims' own tests.

    ``work``: processes, other_tests_s (tests of gdcut itself) and unattributed_training_s.
    Cards name their run by the ledger's ``run``.
    """
    keys = ("command", "duration_s", "device", "deep-net scale", "deep-net data", "hypothesis profile", "git commit",
            "git commit date")
    return {"generated_at": generated_at, **{key: provenance.get(key, "") for key in keys}, **(work or {})}


def summarise(claims: list[dict], runs: dict[str, dict]) -> dict:
    """Counts per verdict and section, and the reproducibility summary at the top of the page (``summary``)."""
    by_verdict = Counter(c["verdict"] for c in claims)
    by_section = {
        section: dict(Counter(c["verdict"] for c in claims if c["section"] == section))
        for section in SECTIONS
        if any(c["section"] == section for c in claims)
    }
    ran = [c for c in claims if c["tests"]]
    return {
        "claims": len(claims),
        "by_verdict": {v: by_verdict.get(v, 0) for v in VERDICTS},
        "by_section": by_section,
        "section_names": dict(SECTIONS),
        "checked": len(ran),
        "tests_run": sum(len(c["tests"]) for c in ran),
        "report": summary.reproducibility(claims, runs),
        "cards_per_run": dict(Counter(c["run"] for c in claims if c["tests"])),
        "runs": len(runs),
    }


def build_ledger(registry: dict[str, Claim], results: list[dict], inventory: dict[str, list[LinkedTest]],
                 provenance: dict, generated_at: datetime | None = None, rerun_scale: str = "smoke",
                 root: Path | None = None, training: list[dict] | None = None, other_tests_s: float = 0.0,
                 collected: list[str] | tuple[str, ...] | None = ()) -> dict:
    """The whole ledger as JSON-able data.

    ``results``: one dict per test node that reported, with keys nodeid,
    outcome, duration_s, reason, claims (list of [id, refutes]) and records
    (evidence dicts). ``rerun_scale``: the deep-net scale the cards' commands
    ask for (the one that fits the machine writing the ledger). ``root``: the
    project root the tests' paths are relative to (for the rules' digests).
    ``training``: the deep-net training items of the run (nodeid, duration_s),
    attributed to the claims they train for; ``other_tests_s``: the time of the
    run's tests that serve no claim (the tests of gdcut itself). ``collected``:
    the node IDs of claim tests the run collected, deselected ones included, so
    that a claim one of whose parameters did not run is partial; None when the
    run cannot know them (then no card is complete).
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
    stamp = generated_at.isoformat(timespec="seconds")
    # A run's identity on its cards: to the microsecond, since two runs can end within one second.
    run = generated_at.isoformat(timespec="microseconds")
    shares, unattributed = attribute_training(training or [], {c for c, tests in per_claim.items() if tests})
    seen = None if collected is None else frozenset(collected)
    claims = [_claim_entry(claim, per_claim[claim.id], inventory.get(claim.id, []), run, rerun_scale, root,
                           shares.get(claim.id, 0.0), seen)
              for claim in registry.values()]
    workers = str(provenance.get("xdist workers", "0"))
    runs = {run: run_entry(stamp, provenance, {
        "deep_nets_ran": any(c["gpu"] and c["tests"] for c in claims),
        "processes": max(1, int(workers)) if workers.isdigit() else 1,
        "other_tests_s": round(other_tests_s, 3), "unattributed_training_s": round(unattributed, 3)})}
    return {
        "schema": SCHEMA,
        "generated_at": stamp,
        "run": run,
        "provenance": provenance,
        "runs": runs,
        "summary": dict(summarise(claims, runs), unknown_claim_tests=orphans),
        # the rulebook's own code (gdcut/ledger/verdict.py), which weighs every cell of every claim
        "rulebook": preregistration.rulebook_registration(root),
        # where the page's links to the documentation point (docs/ of the checkout that wrote it)
        "docs_root": _docs_root(root),
        "claims": claims,
    }


def _docs_root(root: Path | None) -> str:
    docs = Path(root if root is not None else preregistration.PACKAGE_ROOT) / "docs"
    return docs.resolve().as_uri() + "/" if docs.is_dir() else ""


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


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("gdcut.ledger", "."),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["b64"] = lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii")
    environment.filters["number"] = format_value
    environment.filters["percent"] = lambda value: "" if value is None else f"{100 * value:+.3g}%"
    return environment


def render_html(ledger: dict, page_dir: Path | None = None) -> str:
    """The ledger as one self-contained HTML page (inline CSS and script, SVG and CSV as data URIs).

    With ``page_dir``, the folder the page is written to, its links to docs/ are relative to
    it, so they hold when the checkout and its reports move together.
    """
    return _environment().get_template("ledger.html.j2").render(ledger=ledger, docs=docs_href(ledger, page_dir))


def docs_href(ledger: dict, page_dir: Path | None) -> str:
    """Where a page in ``page_dir`` links to the ledger's docs/: relative when both are on this machine."""
    root = ledger.get("docs_root", "")
    if not root or page_dir is None or not root.startswith("file://"):
        return root
    docs = Path(unquote(urlparse(root).path))
    return Path(os.path.relpath(docs, Path(page_dir).resolve())).as_posix() + "/"


_LONG_DECIMAL = re.compile(r"^-?\d{7,}\.\d+$")


def format_value(value) -> str:
    """A value as a reader wants it: yes/no, six significant digits, lists without brackets."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, str) and _LONG_DECIMAL.match(value):  # "321988288.000" printed by a test
        return f"{float(value):.6g}"
    return str(value)


def _history_name(ledger: dict) -> str:
    stamp = ledger["generated_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    # pid and a nanosecond clock: two ledgers of one process within a second keep distinct names.
    return f"ledger-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**9:09d}"


def write_ledger(ledger: dict, reports_dir: Path) -> list[Path]:
    """Write ledger.json and ledger.html, a copy of both in history/, and the history page.

    Returns the paths written: ledger.json, ledger.html, the history JSON and
    HTML, and history.html (each claim's verdict across the kept history).
    """
    reports_dir = Path(reports_dir)
    text = json.dumps(ledger, indent=1, ensure_ascii=False, allow_nan=False)
    html = render_html(ledger, reports_dir)
    json_path, html_path = reports_dir / "ledger.json", reports_dir / "ledger.html"
    _atomic_write(json_path, text)
    _atomic_write(html_path, html)
    history = reports_dir / "history"
    name = _history_name(ledger)
    history_json, history_html = history / f"{name}.json", history / f"{name}.html"
    _atomic_write(history_json, text)
    _atomic_write(history_html, render_html(ledger, history))
    for old in sorted(history.glob("ledger-*.json"))[:-HISTORY_KEEP]:
        old.unlink(missing_ok=True)
        old.with_suffix(".html").unlink(missing_ok=True)
    page = reports_dir / "history.html"
    _atomic_write(page, _environment().get_template("history.html.j2").render(
        history=verdict_history(history_entries(history))))
    return [json_path, html_path, history_json, history_html, page]


def history_entries(history: Path) -> list[tuple[str, dict]]:
    """(file stem, ledger) of every readable ledger in ``history``, oldest first."""
    entries = []
    for path in sorted(history.glob("ledger-*.json")):
        try:
            ledger = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(ledger, dict) and isinstance(ledger.get("claims"), list) and ledger.get("generated_at"):
            entries.append((path.stem, ledger))
    return entries


def verdict_history(entries: list[tuple[str, dict]]) -> dict:
    """Each claim's verdict in each kept ledger, newest first, and where it changed."""
    entries = entries[::-1]
    runs = [{"name": stem, "generated_at": ledger["generated_at"],
             "command": ledger.get("provenance", {}).get("command", "")} for stem, ledger in entries]
    ids = list(dict.fromkeys(card["id"] for _, ledger in entries for card in ledger["claims"]))
    rows = []
    for claim_id in ids:
        cells = []
        for _, ledger in entries:
            card = next((c for c in ledger["claims"] if c.get("id") == claim_id), None)
            own_run = ledger.get("run", ledger["generated_at"])
            cells.append({"verdict": card.get("verdict", "absent") if card else "absent",
                          "carried": bool(card) and card.get("run", own_run) != own_run})
        verdicts = [cell["verdict"] for cell in cells]
        rows.append({"id": claim_id, "cells": cells,
                     "changes": sum(a != b for a, b in zip(verdicts, verdicts[1:]))})
    return {"runs": runs, "rows": rows}
