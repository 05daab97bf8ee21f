"""Join the ledgers of shards of one run into one ledger, with verdicts recomputed from the merged outcomes.

Many machines run ``pytest -m gpu --gdcut-shard K/N`` with one shared
``--gdcut-cache``; each writes a ledger in which the claims of the other
shards are not-run. A verdict depends on all of a claim's tests (one passing
supporting test beside a refuting decision makes it conditional), so the
verdicts cannot be combined from the shards' verdicts: the merge joins the
per-test results that the plugin stores under ``merge_input`` in ledger.json
and runs them through the same pure function, ``render.build_ledger``, then
``render.write_ledger``. Command line::

    gdcut-ledger merge A.json B.json ... -o reports/

Ledgers of different commits (or scales, or precisions) are refused: their
tests did not check the same code under the same settings. Exit status 0 on
success, 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from gdcut.ledger import render
from gdcut.ledger.inventory import LinkedTest
from gdcut.ledger.registry import Claim, PaperValue
from gdcut.ledger.verdict import OpenParameter

#: the top-level key of ledger.json that holds what a merge needs (the one addition to render's ledger)
MERGE_KEY = "merge_input"
#: provenance entries every shard must share
SAME_IN_EVERY_SHARD = ("git commit", "deep-net scale", "deep-net precision")
#: when two shards report one test, the outcome kept: a failure anywhere stays a failure
PRECEDENCE = ("failed", "error", "passed", "skipped")


def merge_input(results: list[dict], linked: dict, training: list[dict] | None = None,
                collected: list[str] | tuple[str, ...] | None = ()) -> dict:
    """What a merge needs to recompute verdicts: the per-test results, the source's claim links, the training items
    and the claim tests collected (deselected ones included, None when unknown: ``render.build_ledger``'s
    ``collected``).

    The plugin stores it in ledger.json under ``MERGE_KEY``, beside what
    ``render.build_ledger`` makes.
    """
    return {"results": results, "training": list(training or []),
            "collected": None if collected is None else sorted(collected),
            "inventory": {claim_id: [{"key": t.key, "refutes": t.refutes, "markers": sorted(t.markers)}
                                     for t in tests] for claim_id, tests in linked.items()}}


def merge_ledgers(ledgers: list[dict], names: list[str]) -> dict:
    """One ledger from shard ledgers (``names`` label them in errors and in the provenance)."""
    if not isinstance(ledgers, list) or not ledgers:
        raise ValueError(f"ledgers must be a non-empty list of ledger dicts, got {ledgers!r}")
    if not isinstance(names, list) or len(names) != len(ledgers):
        raise ValueError(f"names must name each of the {len(ledgers)} ledgers, got {names!r}")
    for name, ledger in zip(names, ledgers):
        if not isinstance(ledger, dict) or not isinstance(ledger.get(MERGE_KEY), dict):
            raise ValueError(f"ledgers: {name} holds no per-test results ('{MERGE_KEY}'): not a ledger.json "
                             "written by this version of gdcut")
    for entry in SAME_IN_EVERY_SHARD:
        values = {name: ledger["provenance"].get(entry, "unknown") for name, ledger in zip(names, ledgers)}
        if len(set(values.values())) > 1:
            listed = "; ".join(f"{name}: {value}" for name, value in values.items())
            raise ValueError(f"ledgers come from different {entry}s ({listed}); merge only shards of one run")
    results: dict[str, dict] = {}
    for ledger in ledgers:
        for result in ledger[MERGE_KEY]["results"]:
            kept = results.get(result["nodeid"])
            if kept is None or PRECEDENCE.index(result["outcome"]) < PRECEDENCE.index(kept["outcome"]):
                results[result["nodeid"]] = result
    first = ledgers[0]
    registry = {entry["id"]: _claim(entry) for entry in first["claims"]}
    inventory = {claim_id: [LinkedTest(t["key"], t["refutes"], frozenset(t["markers"])) for t in tests]
                 for claim_id, tests in first[MERGE_KEY]["inventory"].items()}
    provenance = dict(first["provenance"])
    provenance.update({
        "command": shlex.join(["gdcut-ledger", "merge", *names]),
        "merged from": "; ".join(f"{name} ({ledger['provenance'].get('deep-net shard', '?')}: "
                                 f"{ledger['provenance'].get('command', '?')})" for name, ledger in zip(names, ledgers)),
        "duration_s": round(sum(float(ledger["provenance"].get("duration_s", 0)) for ledger in ledgers), 2),
        "exit status": max(int(ledger["provenance"].get("exit status", 0)) for ledger in ledgers),
        "deep-net shard": f"{len(ledgers)} shards merged",
    })
    merged_results = list(results.values())
    training = [item for ledger in ledgers for item in ledger[MERGE_KEY].get("training", [])]
    other_s = sum(float(run.get("other_tests_s", 0.0) or 0.0) for ledger in ledgers
                  for key, run in ledger.get("runs", {}).items() if key == ledger.get("run"))
    # The rules' digests are read from the checkout the merge runs in (the shards' commit, checked above):
    # the working directory when it holds claims/, else the checkout gdcut is imported from.
    root = Path.cwd() if (Path.cwd() / "claims").is_dir() else None
    # Each shard collected every test and deselected the other shards' share: the union is the run's; unknown
    # when a shard could not say what it collected.
    shards = [ledger[MERGE_KEY].get("collected", []) for ledger in ledgers]
    collected = None if None in shards else sorted({nodeid for shard in shards for nodeid in shard})
    merged = render.build_ledger(registry, merged_results, inventory, provenance, root=root, training=training,
                                 other_tests_s=other_s, collected=collected)
    merged[MERGE_KEY] = merge_input(merged_results, inventory, training, collected)
    return merged


def _claim(entry: dict) -> Claim:
    # The registry as the shard ledgers saw it: every field of a Claim is on its card.
    # (the rulebook entry included: a merge decides each cell under the claim's own rules).
    book = entry.get("rulebook", {})
    return Claim(id=entry["id"], section=entry["section"], title=entry["title"], summary=entry["summary"],
                 kind=entry["kind"], where=dict(entry["where"]),
                 paper_values=tuple(PaperValue(**value) for value in entry["paper_values"]),
                 discrepancies=tuple(entry["discrepancies"]), not_testable=entry["not_testable"],
                 limit=bool(book.get("limit", entry.get("limit", False))),
                 quantifier=book.get("quantifier") or "universal", arithmetic=book.get("arithmetic") or "exact",
                 open_parameters=tuple(OpenParameter(p["name"], tuple(p["natural"]), p["sweep"])
                                       for p in book.get("open_parameters", [])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gdcut-ledger", description="Tools for gdcut claims ledgers.")
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="join shard ledgers of one commit into one ledger (JSON and HTML)")
    merge.add_argument("ledgers", nargs="+", type=Path, metavar="LEDGER.json")
    merge.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                       help="where to write ledger.json and ledger.html")
    args = parser.parse_args(argv)
    try:
        ledgers = [json.loads(path.read_text(encoding="utf-8")) for path in args.ledgers]
        merged = merge_ledgers(ledgers, [str(path) for path in args.ledgers])
    except (OSError, json.JSONDecodeError, ValueError) as error:
        print(f"gdcut-ledger merge: {error}", file=sys.stderr)
        return 2
    written = render.write_ledger(merged, args.output)
    counts = ", ".join(f"{n} {v}" for v, n in merged["summary"]["by_verdict"].items() if n)
    print(f"gdcut-ledger merge: {written[1]} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
