"""What changed between two claims ledgers, verdict by verdict.

Timings and the provenance block are left out: two runs of the same code
should compare equal.  Command line::

    gdcut-ledger-diff OLD.json NEW.json
    gdcut-ledger-diff --last [REPORTS_DIR]     # the two newest ledgers in REPORTS_DIR/history

Exit status 0 when nothing changed, 1 when something did, 2 on bad input.
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
    """condition -> decision for every cell of every rule of a claim (schema 2 ledgers; none before)."""
    return {cell["condition"]: cell["decision"]
            for group in entry.get("decisions", []) for cell in group.get("cells", [])}


def diff_ledgers(old: dict, new: dict) -> list[str]:
    """One line per difference; empty when the two ledgers agree on every claim."""
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
    for claim_id in [c for c in after if c in before]:
        was, now = before[claim_id], after[claim_id]
        if was["verdict"] != now["verdict"]:
            lines.append(f"{claim_id}: verdict {was['verdict']} -> {now['verdict']}")
        old_rows = {_evidence_key(r): r for r in was.get("evidence", [])}
        new_rows = {_evidence_key(r): r for r in now.get("evidence", [])}
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
    return sorted(lines)


def _load(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read ledger {path}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gdcut-ledger-diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="OLD.json NEW.json, or with --last the reports directory")
    parser.add_argument("--last", action="store_true", help="compare the two newest ledgers in REPORTS/history")
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
        lines = diff_ledgers(_load(old_path), _load(new_path))
    except ValueError as error:
        print(f"gdcut-ledger-diff: {error}", file=sys.stderr)
        return 2
    print(f"--- {old_path}\n+++ {new_path}")
    print("\n".join(lines) if lines else "no differences in verdicts or evidence")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
