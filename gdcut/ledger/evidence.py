"""The evidence API tests use to record what they measured.

A test asks for the ``evidence`` fixture and records measurements beside the
paper's numbers, the conditions it ran under, chosen parameters, notes, tables
and figures.  A measurement names the paper's number it is compared with; the
number itself comes from the claims registry (``claims.toml``), its single source.  Every record is a JSON-able dict appended to the test item's
``user_properties`` under the key ``RECORD_KEY``: pytest copies those onto each
test report, and pytest-xdist serialises them from worker to controller, so the
ledger sees the same data with or without ``-n``.
"""
from __future__ import annotations

import csv
import io
import math
from fractions import Fraction
from numbers import Integral, Real

from gdcut.ledger.registry import Claim

RECORD_KEY = "gdcut.evidence"
CLAIMS_KEY = "gdcut.claims"

JSONScalar = str | int | float | bool | None

#: How a convergence certificate shows that a run reached the limit a claim is about (docs/rulebook.md, rule 4).
CERTIFICATE_KINDS = ("horizon", "stationarity", "distance", "cycle")

#: How a counterexample came to be: written down by hand, or found by a search inside the suite.
ORIGINS = ("constructed", "search")


def jsonable(value):
    """``value`` as plain JSON data: numpy/torch scalars unwrapped, NaN and inf as strings.

    JSON has no NaN or infinity, and a ledger that cannot be parsed is worse
    than one that says "nan".
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch 0-d
        return jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if hasattr(value, "tolist"):  # small arrays and tensors
        return jsonable(value.tolist())
    raise TypeError(f"evidence values must be numbers, strings, booleans or None, got {type(value).__name__}")


def figure_csv(fig) -> str:
    """The data drawn in a matplotlib figure, as CSV with columns panel, series, x, y.

    Read back from the figure itself, so every figure offers its data without
    the test saying it twice: lines give their points, scatter plots their
    offsets and filled bands (``fill_between``) the outline of the band.
    """
    from matplotlib.collections import PathCollection, PolyCollection

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["panel", "series", "x", "y"])
    for index, ax in enumerate(fig.axes):
        panel = ax.get_title() or f"panel {index + 1}"
        series = [(line.get_label(), line.get_xydata()) for line in ax.get_lines()]
        for collection in ax.collections:
            if isinstance(collection, PathCollection):
                series.append((collection.get_label(), collection.get_offsets()))
            elif isinstance(collection, PolyCollection):
                for path in collection.get_paths():
                    series.append((f"{collection.get_label()} (outline)", path.vertices))
        for number, (label, points) in enumerate(series):
            name = f"series {number + 1}" if not label or label.startswith("_") else label
            for x, y in points:
                writer.writerow([panel, name, repr(float(x)), repr(float(y))])
    return buffer.getvalue()


def figure_svg(fig) -> str:
    """A matplotlib figure as SVG text, reproducible byte for byte across runs."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    # A fixed hash salt and no date keep the SVG identical between runs, so
    # ledger diffs show only real changes.
    with plt.rc_context({"svg.hashsalt": "gdcut", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


class Evidence:
    """Recorder handed to a test by the ``evidence`` fixture.

    ``claim_ids`` are the IDs of the test's claim markers; with more than one,
    each call names the claim it is about. ``registry`` is the claims registry
    the paper's numbers are read from (the run's ``--gdcut-registry``).
    """

    def __init__(self, user_properties: list, claim_ids: list[str], registry: dict[str, Claim]):
        self._user_properties = user_properties
        self._claim_ids = list(claim_ids)
        self._registry = registry

    def _claim(self, claim: str | None) -> str:
        if claim is None:
            if len(self._claim_ids) != 1:
                raise ValueError(
                    f"claim must be given: this test is linked to {self._claim_ids}, so say which one the record is about"
                )
            return self._claim_ids[0]
        if claim not in self._claim_ids:
            raise ValueError(f"claim {claim!r} is not one of this test's claim markers {self._claim_ids}")
        return claim

    def _add(self, kind: str, claim: str | None, **payload) -> None:
        record = {"kind": kind, "claim": self._claim(claim)}
        record.update({key: jsonable(value) for key, value in payload.items()})
        self._user_properties.append((RECORD_KEY, record))

    def measure(self, name: str, measured, *, paper: str | None, unit: str = "", condition: str = "",
                cell: str = "", reading: bool = False, claim=None) -> None:
        """A measured value beside the paper's.

        ``paper`` names the entry of the claim's ``paper_values`` in ``claims.toml``
        that the measurement is compared with; the record carries that entry's value
        and where the paper states it. ``paper=None`` says the paper gives no
        counterpart. ``cell`` names the decision the value is evidence for (the row
        then counts as that cell does; a name the test does not decide makes the row
        unable to speak, so a typo never counts). ``reading=True`` marks a second
        reading, shown and compared, never counted.
        """
        if not isinstance(reading, bool):
            raise ValueError(f"reading must be True or False, got {reading!r}")
        if reading and cell:
            raise ValueError(f"a second reading decides no cell: give reading=True or cell={cell!r}, not both")
        claim_id = self._claim(claim)
        value, where = None, ""
        if paper is not None:
            try:
                entry = self._registry[claim_id].paper_entry(paper)
            except ValueError as error:
                raise ValueError(f"paper: {error}") from None
            value, where = entry.value, entry.where
        self._add("measure", claim_id, name=str(name), measured=measured, paper=value, paper_where=where,
                  unit=str(unit), condition=str(condition), **_cell(cell), **({"reading": True} if reading else {}))

    def condition(self, text: str, *, claim=None) -> None:
        """A condition the test ran under: arithmetic, dtype, implementation, scale, seeds."""
        self._add("condition", claim, text=str(text))

    def parameter(self, name: str, value, note: str = "", *, claim=None) -> None:
        """A parameter the test used; ``note`` says whether the paper states it or the suite chose it."""
        self._add("parameter", claim, name=str(name), value=value, note=str(note))

    def note(self, text: str, *, claim=None) -> None:
        """Free text for the claim's card."""
        self._add("note", claim, text=str(text))

    def table(self, caption: str, header: list, rows: list[list], *, claim=None) -> None:
        """A small table (Table 1 as measured, say)."""
        width = len(header)
        for index, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(f"rows[{index}] has {len(row)} cells but header has {width}")
        self._add("table", claim, caption=str(caption), header=[str(h) for h in header],
                  rows=[[jsonable(cell) for cell in row] for row in rows])

    def decision(self, condition: str, ruling, *, finding: str = "", claim=None) -> None:
        """The decision of a pre-registered rule for one cell (``gdcut.rules.Ruling``).

        ``condition`` names the cell (depth, batch norm, optimiser, λ1, ...). The
        verdict counts these decisions instead of the test's pass/fail role: a test
        that records decisions passes whatever they say. ``finding`` states what the
        cell measured beside the paper's number, in the paper's terms; the card's
        first sentence shows it beside a cell that counts.
        """
        from gdcut.rules import Ruling

        if not isinstance(ruling, Ruling):
            raise ValueError(f"ruling must be a gdcut.rules.Ruling, got {type(ruling).__name__}")
        if not isinstance(condition, str) or not condition.strip():
            raise ValueError("condition must name the cell the decision covers (a non-empty string)")
        if not isinstance(finding, str):
            raise ValueError(f"finding must be a string, got {type(finding).__name__}")
        self._add("decision", claim, condition=condition, decision=ruling.decision, rule=ruling.rule,
                  statistic=ruling.statistic, threshold=ruling.threshold, n=ruling.n, values=ruling.values,
                  reason=ruling.reason, **({"finding": finding.strip()} if finding.strip() else {}))

    def undecided_cells(self) -> list[str]:
        """The cells records name (``cell=``) that no ``decision`` covers: a misspelt or forgotten decision. The
        ``evidence`` fixture fails the test on any, since a record of a cell that is never decided counts for
        nothing and would go unseen."""
        records = [record for key, record in self._user_properties if key == RECORD_KEY]
        decided = {(r["claim"], r["condition"]) for r in records if r["kind"] == "decision"}
        return list(dict.fromkeys(r["cell"] for r in records if r.get("cell") and (r["claim"], r["cell"]) not in decided))

    def caveat(self, text: str, *, claim=None) -> None:
        """Something worth knowing about the claim's scope, in words; shown under Caveats, it never moves the verdict."""
        self._add("caveat", claim, text=_nonempty("text", text))

    def premise(self, text: str, holds: bool, *, cell: str = "", claim=None) -> None:
        """A check, computed from the run, that the instance meets a premise of the claim as the paper states it.

        A failed check voids the test, or only the decision of ``cell``, whichever way
        it points (``gdcut.ledger.verdict.rule_cell``, rule 1).
        """
        if not isinstance(holds, bool):
            raise ValueError(f"holds must be a bool, got {type(holds).__name__}")
        self._add("premise", claim, text=_nonempty("text", text), holds=holds, **_cell(cell))

    def paper_setting(self, where: str, *, cell: str = "", claim=None) -> None:
        """Marks the test, or the decision of ``cell``, as the paper's own setting, stated at ``where``.

        ``where`` names the place ("v2 §3.1, the worked example"). A refuting cell so
        marked puts the claim among those that fail in the paper's own setting
        (``gdcut.ledger.summary``); it changes no count.
        """
        self._add("paper_setting", claim, where=_nonempty("where", where), **_cell(cell))

    def certificate(self, kind: str, value, tolerance, holds: bool, detail: str = "", *, cell: str = "",
                    claim=None) -> None:
        """A convergence certificate: ``value`` (a gap, a distance, a horizon) against ``tolerance``.

        ``kind`` is one of CERTIFICATE_KINDS; ``holds`` says whether the run is
        certified converged. A cell of a limit claim counts, either way, only with
        certificates that all hold (rule 4).
        """
        if kind not in CERTIFICATE_KINDS:
            raise ValueError(f"kind must be one of {CERTIFICATE_KINDS}, got {kind!r}")
        if not isinstance(holds, bool):
            raise ValueError(f"holds must be a bool, got {type(holds).__name__}")
        self._add("certificate", claim, certificate=kind, value=value, tolerance=tolerance, holds=holds,
                  detail=str(detail), **_cell(cell))

    def statistic(self, name: str, value, floor, ceiling, *, cell: str = "", claim=None) -> None:
        """The range a deciding statistic can take: at its ``floor`` or ``ceiling`` it decides nothing (rule 2).

        E3's oscillation period is 2 at best: a period of 2 cannot get faster.
        """
        value, floor, ceiling = (_finite(n, v) for n, v in (("value", value), ("floor", floor),
                                                            ("ceiling", ceiling)))
        if not floor < ceiling:
            raise ValueError(f"floor must be below ceiling, got {floor!r} and {ceiling!r}")
        at = "ceiling" if value >= ceiling else "floor" if value <= floor else ""
        text = f"{_nonempty('name', name)} = {value:.6g} is at its {at} {ceiling if at == 'ceiling' else floor:g}" \
            if at else f"{name} = {value:.6g} within ({floor:g}, {ceiling:g})"
        self._add("statistic", claim, text=text, name=name, value=value, floor=floor, ceiling=ceiling,
                  saturated=bool(at), **_cell(cell))

    def swept(self, parameter: str, values, *, cell: str = "", claim=None) -> None:
        """The values (their labels) a parameter the paper leaves open took in this test (rule 5).

        ``parameter`` is one of the claim's ``open_parameters`` in ``claims.toml``;
        the labels must include its natural defaults for the sweep to count.
        """
        claim_id = self._claim(claim)
        self._declared(claim_id, parameter)
        labels = [str(value) for value in values] if isinstance(values, (list, tuple)) else None
        if not labels or any(not label.strip() for label in labels):
            raise ValueError(f"values must be a non-empty list of labels, got {values!r}")
        self._add("swept", claim_id, parameter=parameter, values=list(dict.fromkeys(labels)), **_cell(cell))

    def independent_of(self, parameter: str, reason: str, *, cell: str = "", claim=None) -> None:
        """A parameter the paper leaves open that the outcome provably does not depend on, and why (rule 5)."""
        claim_id = self._claim(claim)
        self._declared(claim_id, parameter)
        self._add("independent", claim_id, parameter=parameter, reason=_nonempty("reason", reason), **_cell(cell))

    def arithmetic(self, kind: str, error_bound=None, margin=None, *, cell: str = "", claim=None) -> None:
        """The arithmetic the test computed in (rule 3): exact, or a float type.

        A float64 reading counts as exact when it states an ``error_bound`` on what
        it decides smaller than the ``margin`` it decides by.
        """
        from gdcut.ledger.verdict import ARITHMETIC

        if kind not in ARITHMETIC:
            raise ValueError(f"kind must be one of {ARITHMETIC}, got {kind!r}")
        if (error_bound is None) != (margin is None):
            raise ValueError("error_bound and margin go together: a bound certifies only against a margin")
        certified = False
        if error_bound is not None:
            error_bound, margin = _finite("error_bound", error_bound), _finite("margin", margin)
            if error_bound < 0 or margin <= 0:
                raise ValueError(f"error_bound must be ≥ 0 and margin > 0, got {error_bound!r} and {margin!r}")
            certified = kind == "float64" and error_bound < margin
        self._add("arithmetic", claim, arithmetic=kind, error_bound=error_bound, margin=margin,
                  certified=certified, **_cell(cell))

    def _declared(self, claim_id: str, parameter: str) -> None:
        names = [p.name for p in self._registry[claim_id].open_parameters]
        if parameter not in names:
            raise ValueError(f"parameter {parameter!r} is not an open parameter of {claim_id} in claims.toml; "
                             f"declared: {names or 'none'}")

    def origin(self, how: str, detail: str = "", *, claim=None) -> None:
        """How the test's counterexample came about: ``constructed`` by hand or found by a ``search``."""
        if how not in ORIGINS:
            raise ValueError(f"how must be one of {ORIGINS}, got {how!r}")
        self._add("origin", claim, how=how, detail=str(detail))

    def figure(self, fig, caption: str = "", *, claim=None) -> None:
        """A matplotlib figure, stored as inline SVG with its data as CSV (the figure is closed)."""
        import matplotlib.pyplot as plt

        try:
            self._add("figure", claim, caption=str(caption), svg=figure_svg(fig), csv=figure_csv(fig))
        finally:
            plt.close(fig)


def _cell(cell: str) -> dict:
    """The ``cell`` key of a record that belongs to one decision (by its condition), or nothing."""
    if not isinstance(cell, str):
        raise ValueError(f"cell must be the condition of a decision (a string), got {type(cell).__name__}")
    return {"cell": cell} if cell else {}


def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _nonempty(name: str, text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return text
