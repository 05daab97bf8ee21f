"""What changed between two claims ledgers, verdict by verdict.

Timings and the provenance block are left out: two runs of the same code
should compare equal.  Command line::

    gdcut-ledger-diff OLD.json NEW.json
    gdcut-ledger-diff --last [REPORTS_DIR]     # the two newest ledgers in REPORTS_DIR/history
    gdcut-ledger-diff --common OLD.json NEW.json   # only the claims that ran in both

A summary line comes first, then one line per difference, among them every
decision rule whose digest moved (its words or the code that applies it
changed: ``gdcut.ledger.preregistration``).  Exit status 0
when nothing changed, 1 when something did, 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Per-claim fields compared as a whole (verdict and evidence get line-level detail).
WHOLE_FIELDS = ("conditions", "parameters", "notes", "tables")


def _evidence_key(row: dict) -> tuple:
    return (row.get("test", ""), row.get("name", ""), row.get("condition", ""))


def _decision_cells(entry: dict) -> dict[str, str]:
    """condition -> decision for every cell of every rule of a claim (schema 2 ledgers; none before).

    Where the rulebook counts the cell otherwise than its rule decided (schema 4), the
    count follows: "refutes (counts as inconclusive)".
    """
    return {cell["condition"]: cell["decision"] + (f" (counts as {cell['counts_as']})"
                                                   if cell.get("counts_as", cell["decision"]) != cell["decision"] else "")
            for group in entry.get("decisions", []) for cell in group.get("cells", [])}


def _rules(entry: dict) -> dict[str, dict]:
    """rule text -> its decision group, for the rules that carry a digest (schema 4 ledgers; none before)."""
    return {group["rule"]: group for group in entry.get("decisions", []) if group.get("rule_digest")}


def rule_changes(claim_id: str, was: dict, now: dict) -> list[str]:
    """A line for each rule whose words or code changed between two cards (its digest moved)."""
    before, after = _rules(was), _rules(now)
    lines = []
    for rule in sorted(before.keys() & after.keys()):
        a, b = before[rule], after[rule]
        if a["rule_digest"] != b["rule_digest"]:
            lines.append(f"{claim_id}: rule changed [{rule[:80]}]: digest {a['rule_digest']} -> {b['rule_digest']}"
                         f" (last changed: {b.get('rule_commit', 'unknown')})")
    return lines


def ran_here(card: dict, ledger: dict) -> bool:
    """Did this ledger's own run test the claim? (Not when no test reported, nor when the card was carried over.)"""
    own_run = ledger.get("run", ledger.get("generated_at"))
    return bool(card.get("tests")) and card.get("run", own_run) == own_run


def diff_ledgers(old: dict, new: dict, common_only: bool = False) -> list[str]:
    """One line per difference; empty when the two ledgers agree on every claim.

    ``common_only``: compare only the claims that both ledgers' own runs tested,
    so a one-claim run against a full one shows that claim alone.
    """
    for name, ledger in (("old", old), ("new", new)):
        if not isinstance(ledger, dict) or not isinstance(ledger.get("claims"), list):
            raise ValueError(f"{name} is not a claims ledger (no 'claims' list)")
        for index, entry in enumerate(ledger["claims"]):
            if not isinstance(entry, dict) or not {"id", "verdict"} <= entry.keys():
                raise ValueError(f"{name}: claims[{index}] lacks an 'id' or a 'verdict'")
    before = {c["id"]: c for c in old["claims"]}
    after = {c["id"]: c for c in new["claims"]}
    lines = [f"{claim_id}: only in old ledger" for claim_id in before.keys() - after.keys()]
    lines += [f"{claim_id}: only in new ledger" for claim_id in after.keys() - before.keys()]
    if common_only:
        lines = []
    for claim_id in [c for c in after if c in before]:
        was, now = before[claim_id], after[claim_id]
        if common_only and not (ran_here(was, old) and ran_here(now, new)):
            continue
        if was["verdict"] != now["verdict"]:
            lines.append(f"{claim_id}: verdict {was['verdict']} -> {now['verdict']}")
        old_rows = {_evidence_key(r): r for r in was.get("evidence", []) + was.get("caveat_evidence", [])}
        new_rows = {_evidence_key(r): r for r in now.get("evidence", []) + now.get("caveat_evidence", [])}
        for key in sorted(old_rows.keys() | new_rows.keys()):
            a, b = old_rows.get(key), new_rows.get(key)
            label = f"{claim_id}: {key[1]!s}" + (f" [{key[2]}]" if key[2] else "")
            if a is None:
                lines.append(f"{label}: new measurement {b['measured']!r}")
            elif b is None:
                lines.append(f"{label}: measurement gone (was {a['measured']!r})")
            elif a["measured"] != b["measured"] or a.get("paper") != b.get("paper"):
                lines.append(f"{label}: {a['measured']!r} -> {b['measured']!r}")
        old_cells, new_cells = _decision_cells(was), _decision_cells(now)
        for cell in sorted(old_cells.keys() | new_cells.keys()):
            a, b = old_cells.get(cell, "absent"), new_cells.get(cell, "absent")
            if a != b:
                lines.append(f"{claim_id}: decision [{cell}] {a} -> {b}")
        lines += [f"{claim_id}: {field} changed" for field in WHOLE_FIELDS if was.get(field) != now.get(field)]
        lines += rule_changes(claim_id, was, now)
    return sorted(lines)


def summary(lines: list[str], old: dict, new: dict, common_only: bool) -> str:
    """One line before the details: how many claims were compared and what moved."""
    verdicts = sorted({line.split(":")[0] for line in lines if ": verdict " in line})
    touched = {line.split(":")[0] for line in lines}
    before = {card["id"]: card for card in old["claims"]}
    compared = [card["id"] for card in new["claims"] if card["id"] in before
                and (not common_only or ran_here(card, new) and ran_here(before[card["id"]], old))]
    text = (f"{len(compared)} claim(s) compared{' (run in both)' if common_only else ''}: "
            f"{len(touched)} changed, {len(verdicts)} verdict(s) moved")
    text += f" ({', '.join(verdicts)})" if verdicts else ""
    rules = sorted({line.split(":")[0] for line in lines if ": rule changed [" in line})
    text += f"; rules changed in {', '.join(rules)}" if rules else ""
    if not common_only:
        unran = [c["id"] for c in new["claims"] if not ran_here(c, new)]
        if unran and len(unran) > len(new["claims"]) / 2:
            text += (f"; {len(unran)} claims were not run by the new ledger's own run: "
                     "add --common to compare only the claims run in both")
    return text


def _load(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read ledger {path}: {error}") from None
    if text.lstrip().startswith("<"):
        raise ValueError(f"{path} is the HTML page; the diff reads the JSON ledger written beside it "
                         f"({Path(path).with_suffix('.json')})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"cannot read ledger {path}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gdcut-ledger-diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="OLD.json NEW.json, or with --last the reports directory")
    parser.add_argument("--last", action="store_true", help="compare the two newest ledgers in REPORTS/history")
    parser.add_argument("--common", action="store_true",
                        help="compare only the claims that both ledgers' own runs tested (not carried over, not not-run)")
    options = parser.parse_args(argv)
    try:
        if options.last:
            reports = Path(options.paths[0] if options.paths else "reports")
            history = sorted((reports / "history").glob("ledger-*.json"))
            if len(history) < 2:
                raise ValueError(f"need two ledgers in {reports / 'history'}, found {len(history)}")
            old_path, new_path = history[-2], history[-1]
        elif len(options.paths) == 2:
            old_path, new_path = map(Path, options.paths)
        else:
            raise ValueError("give OLD.json and NEW.json, or --last [REPORTS_DIR]")
        old, new = _load(old_path), _load(new_path)
        lines = diff_ledgers(old, new, options.common)
    except ValueError as error:
        print(f"gdcut-ledger-diff: {error}", file=sys.stderr)
        return 2
    print(summary(lines, old, new, options.common))
    print(f"--- {old_path}\n+++ {new_path}")
    print("\n".join(lines) if lines else "no differences in verdicts or evidence")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
