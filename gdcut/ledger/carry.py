"""Partial runs keep the full picture: cards a run did not touch come from the last ledger.

A run that selects a subset of the claims (``--claim=L4``, ``-k``, ``-m fast``)
reports nothing for the others.  Writing those as "not-run" would replace a
full ledger with one card; instead each untouched card is carried over from
the ledger the run replaces, keeping the ``run`` stamp of the run that made
it, so the page can say which cards are fresh and which are older.

A card counts as untouched when none of its tests reported in this run.  A
card whose tests ran and were skipped (missing data, say) is this run's news
and is never replaced.
"""
from __future__ import annotations

import json
from pathlib import Path


def load_previous(path: Path, schema: int) -> dict | None:
    """The ledger at ``path`` when it is one of this schema; None when absent, unreadable or older."""
    try:
        ledger = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(ledger, dict) or ledger.get("schema") != schema or not isinstance(ledger.get("claims"), list):
        return None
    return ledger


def carry_over(previous: dict | None, ledger: dict) -> tuple[dict, list[str]]:
    """``ledger`` with its untouched cards taken from ``previous``; also the IDs carried.

    Pure: neither argument is changed.  The summary is left to the caller,
    which recomputes it over the merged cards.
    """
    if previous is None:
        return ledger, []
    earlier = {card["id"]: card for card in previous["claims"] if card.get("tests")}
    claims, carried = [], []
    runs = dict(ledger["runs"])
    for card in ledger["claims"]:
        old = earlier.get(card["id"])
        if card["tests"] or old is None:
            claims.append(card)
            continue
        claims.append(old)
        carried.append(card["id"])
        runs.setdefault(old["run"], previous.get("runs", {}).get(old["run"], {"generated_at": old["run"]}))
    return dict(ledger, claims=claims, runs=runs), carried
