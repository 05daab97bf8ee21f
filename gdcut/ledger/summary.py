"""The reproducibility summary at the top of the ledger, in the manner of an ML Reproducibility Challenge report.

Its parts: the scope; what reproduces; what fails in the paper's own setting
(refuted or conditional claims with a refuting cell that ran the setting the
paper states, ``evidence.paper_setting``), one sentence each with our number
beside the paper's; what fails by a counterexample to a general statement (the
other refuted claims); what holds in some settings and fails in
others (the other conditional claims); what is not settled and what would settle
it; the cost. Every sentence is built from the
cards of the run (their verdicts, sides, evidence rows and reasons), never
typed in, so the summary cannot say what the evidence does not.
"""
from __future__ import annotations

import re
from collections import Counter

#: Verdicts listed as "not settled".
OPEN = ("inconclusive", "unexpected", "not-run", "not-encoded")


def _format(value) -> str:
    from gdcut.ledger.render import format_value

    return format_value(value)


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph (the claim's summary in the registry)."""
    text = " ".join(text.split())
    # a full stop ends it unless it abbreviates ("eq.", "Prop.", "et al."); the next sentence may open with "v1"
    match = re.search(r"(?<!\b[Ee]q)(?<!\bProp)(?<!\bFig)(?<!\bApp)(?<!\be\.g)(?<!\bi\.e)(?<!et al)\.\s+"
                      r"(?=[A-Z(]|v[12]\b)", text)
    return text[:match.start() + 1] if match else text


def key_number(card: dict, tests: frozenset[str] = frozenset()) -> dict | None:
    """The row that shows a refutation best: our number against the paper's, where the paper gives one.

    A row from one of ``tests`` (those that ran the paper's own setting) comes first; then
    a row that disagrees by comparison, from a test or cell that counts as refuting; then
    one that disagrees by the test's assertion. None when every refuting cell states its own
    finding: the summary's sentence quotes it, our number beside the paper's for the part of
    the rule that decided, where a row compares by its own 5% and may pick a part that agrees.
    """
    refuting = [cell for test in card.get("tests", []) for cell in test.get("cells", [])
                if cell.get("counts_as") == "refutes"]
    if refuting and all(cell.get("finding") for cell in refuting):
        return None
    # a second reading is shown beside the decision and never counted: it cannot be the number a refutation shows
    rows = [r for r in card.get("evidence", []) if r.get("agreement") == "disagrees" and r.get("counts_as") != "reading"]
    rows.sort(key=lambda r: (r.get("test") not in tests, r.get("counts_as") not in ("refutes", "decides"),
                             r.get("basis") != "comparison"))
    if not rows:
        return None
    row = rows[0]
    where = f" ({row['paper_where']})" if row.get("paper_where") else ""
    unit = f" {row['unit']}" if row.get("unit") else ""
    return {"name": row["name"], "ours": _format(row["measured"]) + unit, "paper": _format(row["paper"]) + where,
            "criterion": row.get("criterion", ""), "condition": row.get("condition", "")}


def _number_sentence(number: dict | None) -> str:
    if number is None:
        return ""
    condition = f", {number['condition']}" if number["condition"] else ""
    return f"Measured {number['name']}{condition}: {number['ours']}; the paper: {number['paper']}."


def failing_in_paper_setting(card: dict) -> list[tuple[str, str, str]]:
    """The refuting cells of a card that ran the paper's own setting, as (the cell as a reader knows it, where
    the paper states the setting, the test); ``evidence.paper_setting`` marks them."""
    from gdcut.ledger.render import cell_names

    found = []
    for test in card.get("tests", []):
        for cell in test.get("cells", []):
            if cell["counts_as"] == "refutes" and cell.get("paper_setting"):
                where = "; ".join(dict.fromkeys(cell["paper_setting"]))
                found.extend((name, where, test["nodeid"]) for name in cell_names(test, cell))
    return list(dict.fromkeys(found))


def not_settled(card: dict) -> list[str]:
    """The inconclusive cells of a card, as a reader knows them: what a further run could still settle (void cells
    and second readings are not listed: no run settles them)."""
    from gdcut.ledger.render import cell_names

    return list(dict.fromkeys(name for test in card.get("tests", []) for cell in test.get("cells", [])
                              if cell["counts_as"] == "inconclusive" for name in cell_names(test, cell)))


def settle(card: dict, run: dict) -> dict:
    """What would settle an open claim, from its reasons, its scale and its re-run command.

    ``{"text": ..., "command": ...}``: what is missing, and the command that would run it.
    """
    verdict = card["verdict"]
    command = card.get("rerun", [""])[0]
    # Only the paper's scale can decide a deep-net claim: L18-L20 need the paper's setting (full-width VGG16 from
    # ImageNet weights, CIFAR-10) as their premise, and C5/C6 a sweep of the data set that includes CIFAR-10.
    deciding_command = f"scripts/verify --claim={card['id']} --gdcut-scale=paper"
    ran_at = run.get("deep-net scale")
    needs_gpu = card.get("gpu") and ran_at != "paper"
    gpu_text = (f"a run at the paper's scale on a GPU, on CIFAR-10 (--gdcut-cifar10=DIR) and, for L18-L20, from "
                f"VGG16's ImageNet weights (this one ran at the {ran_at} scale)")
    if verdict == "not-encoded":
        return {"text": "a test linked to the claim (none is written yet)", "command": ""}
    if verdict == "unexpected":
        return {"text": f"a fix of the suite ({'; '.join(card['verdict_reasons'][:2])}), then a run", "command": command}
    if verdict == "not-run":
        reasons = [r for r in card["verdict_reasons"] if not r.startswith("not selected in this run")]
        why = f" ({'; '.join(reasons[:2])})" if reasons else ""
        if needs_gpu:
            return {"text": f"{gpu_text}{why}", "command": deciding_command}
        return {"text": f"a run of its tests{why}", "command": command}
    parts = []
    if needs_gpu:
        parts.append(gpu_text)
    lacking = card["sides"].get("inconclusive", []) + card["sides"].get("aside", [])
    if lacking:
        shown = "; ".join(lacking[:2]) + (f" (and {len(lacking) - 2} more on the card)" if len(lacking) > 2 else "")
        parts.append(f"evidence that meets what these cells lack: {shown}")
    elif not parts:
        parts.append("; ".join(card["verdict_reasons"][:2]) or "a test that can decide it")
    return {"text": "; ".join(parts), "command": deciding_command if needs_gpu else command}


def _found(card: dict) -> str:
    """The card's verdict in one sentence from its two sides alone (the card lists what was inconclusive)."""
    from gdcut.ledger.explain import verdict_sentence

    sides = {side: card["sides"].get(side, []) for side in ("supports", "refutes")}
    return verdict_sentence(card["verdict"], sides, card.get("verdict_reasons", []))


def cost(claims: list[dict], runs: dict[str, dict]) -> list[dict]:
    """Per run: the wall clock and the work that fills it, summed so that it adds up.

    ``work_s`` = the claims' tests, each counted once + the deep-net training attributed to the claims that
    use it + the tests of gdcut itself + training no claim ran in this run; over the run's
    processes that is ``per_process_s``, and the rest of the wall clock is start-up,
    collection and the ledger itself.
    """
    rows = []
    for key, run in runs.items():
        own = [c for c in claims if c.get("run") == key and c.get("tests")]
        # a test linked to two claims sits on both cards and ran once
        durations = {t["nodeid"]: t.get("duration_s", 0.0) for c in own for t in c["tests"]}
        tests_s = sum(durations.values())
        training_s = sum(c.get("training_s", 0.0) for c in own)
        other_s = float(run.get("other_tests_s", 0.0) or 0.0)
        unattributed_s = float(run.get("unattributed_training_s", 0.0) or 0.0)
        work = tests_s + training_s + other_s + unattributed_s
        processes = max(1, int(run.get("processes", 1) or 1))
        wall = run.get("duration_s")
        wall = float(wall) if isinstance(wall, (int, float)) or str(wall).replace(".", "", 1).isdigit() else None
        costly = sorted(own, key=lambda c: -c.get("time_s", 0.0))[:5]
        rows.append({
            "run": key, "generated_at": run.get("generated_at", ""), "wall_s": wall, "processes": processes,
            "claim_tests_s": round(tests_s, 1), "training_s": round(training_s, 1), "other_tests_s": round(other_s, 1),
            "unattributed_training_s": round(unattributed_s, 1), "work_s": round(work, 1),
            "per_process_s": round(work / processes, 1),
            "overhead_s": round(wall - work / processes, 1) if wall is not None else None,
            "costliest": [{"id": c["id"], "time_s": c.get("time_s", 0.0), "training_s": c.get("training_s", 0.0)}
                          for c in costly],
        })
    return rows


def reproducibility(claims: list[dict], runs: dict[str, dict]) -> dict:
    """The summary's parts as data for the page and for ledger.json."""
    ran = [c for c in claims if c.get("tests")]
    kinds = Counter(c["kind"] for c in ran)
    scope = {
        # a test linked to two claims is on both cards and counts once
        "claims": len(claims), "checked": len(ran), "tests_run": len({t["nodeid"] for c in ran for t in c["tests"]}),
        "kinds": dict(kinds), "not_testable": [c["id"] for c in claims if c["verdict"] == "not-testable"],
        # the deep-net scale of the runs that ran a deep-net claim
        "scales": sorted({runs.get(c.get("run"), {}).get("deep-net scale", "") for c in ran if c.get("gpu")} - {""}),
    }
    # A partial claim says what of it did not settle: its title may promise more than its counting cells show.
    reproduces = [{"id": c["id"], "title": c["title"], "partial": not c.get("complete", True),
                   "not_settled": not_settled(c), "unrun": len(c.get("unrun", [])),
                   "run_at": runs.get(c.get("run"), {}).get("generated_at", "")}
                  for c in claims if c["verdict"] == "holds"]
    fails, counterexamples = [], []
    for c in claims:
        in_paper_setting = failing_in_paper_setting(c)
        if not (c["verdict"] == "refuted" or (c["verdict"] == "conditional" and in_paper_setting)):
            continue
        number = key_number(c, frozenset(test for _, _, test in in_paper_setting))
        where = "; ".join(f"{name} ({where})" for name, where, _ in in_paper_setting)
        found = _found(c)
        entry = {"id": c["id"], "verdict": c["verdict"], "title": c["title"],
                 "paper_says": first_sentence(c["summary"]),
                 "paper_setting": [[name, where] for name, where, _ in in_paper_setting],
                 "found": found, "number": number,
                 "sentence": f"The paper: {first_sentence(c['summary'])} "
                             + (f"In the paper's own setting it fails: {where}. " if where else "")
                             + f"Found: {found} {_number_sentence(number)}".strip()}
        # a refuted claim none of whose refuting cells ran the paper's setting fails by a counterexample the suite
        # built to its general statement
        (fails if in_paper_setting else counterexamples).append(entry)
    failing = {f["id"] for f in fails}
    conditional = []
    for c in claims:
        if c["verdict"] != "conditional" or c["id"] in failing:
            continue
        number = key_number(c)
        conditional.append({"id": c["id"], "title": c["title"], "sentence": _found(c), "number": number,
                            "holds_under": c["sides"].get("supports", []), "fails_under": c["sides"].get("refutes", [])})
    unsettled = [{"id": c["id"], "verdict": c["verdict"], "title": c["title"], "sentence": c["sentence"],
                  "settle": settle(c, runs.get(c.get("run"), {}))}
                 for c in claims if c["verdict"] in OPEN]
    return {"scope": scope, "reproduces": reproduces, "fails": fails, "counterexamples": counterexamples,
            "conditional": conditional,
            "unsettled": unsettled, "cost": cost(claims, runs)}
