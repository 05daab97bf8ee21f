"""The claims registry: every claim of the paper, loaded from ``claims.toml``.

The TOML file is data (IDs, titles, locations in both versions, the numbers
the paper reports); tests link to it with ``@pytest.mark.claim("ID")``.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gdcut.ledger.verdict import CLAIM_ARITHMETIC, QUANTIFIERS, OpenParameter, Rulebook

REGISTRY_PATH = Path(__file__).with_name("claims.toml")

KINDS = ("proposition", "worked example", "simulation", "deep-net experiment", "context")

#: Paper sections as the ledger groups them (the first letter of a claim ID).
SECTIONS = {
    "S": "Setup and preliminaries",
    "C": "Convergence",
    "L": "The LASSO penalty",
    "E": "Edge of Stability",
    "G": "Geometry of strong duality",
    "X": "Context statements",
}


@dataclass(frozen=True)
class PaperValue:
    name: str
    value: object
    unit: str = ""
    where: str = ""


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    title: str
    summary: str
    kind: str
    where: dict[str, str]
    paper_values: tuple[PaperValue, ...] = ()
    discrepancies: tuple[str, ...] = ()
    not_testable: str = ""
    #: The claim is about an eventual value, a limit or a final norm: a cell counts only with a certificate.
    limit: bool = False
    #: "universal" (every setting the paper leaves open) or "existential" (the paper's setting shows it).
    quantifier: str = "universal"
    #: The arithmetic the claim is decided in: "exact", or "float" for what the paper computed in floats.
    arithmetic: str = "exact"
    #: Every parameter the paper leaves open that an outcome can depend on, with its natural defaults.
    open_parameters: tuple[OpenParameter, ...] = ()

    def rulebook(self) -> Rulebook:
        """The claim's entry of the rulebook (``gdcut.ledger.verdict``)."""
        return Rulebook(self.limit, self.quantifier, self.arithmetic, self.open_parameters)

    def paper_entry(self, name: str) -> PaperValue:
        """The paper's number or statement listed under ``name`` (a ValueError names the known ones)."""
        for entry in self.paper_values:
            if entry.name == name:
                return entry
        known = ", ".join(repr(e.name) for e in self.paper_values) or "none"
        raise ValueError(f"claim {self.id} has no paper value {name!r}; known: {known}")

    def paper_value(self, name: str):
        """The value the paper reports under ``name``."""
        return self.paper_entry(name).value


def _parse(entry: dict) -> Claim:
    missing = {"id", "section", "title", "summary", "kind", "where"} - entry.keys()
    if missing:
        raise ValueError(f"claims registry entry {entry.get('id', '?')!r} lacks {sorted(missing)}")
    if entry["kind"] not in KINDS:
        raise ValueError(f"claim {entry['id']}: kind must be one of {KINDS}, got {entry['kind']!r}")
    if entry["section"] not in SECTIONS or not entry["id"].startswith(entry["section"]):
        raise ValueError(f"claim {entry['id']}: section {entry['section']!r} does not match its id")
    names = [value.get("name") for value in entry.get("paper_values", [])]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"claim {entry['id']}: paper_values list {repeated} more than once")
    return Claim(
        id=entry["id"],
        section=entry["section"],
        title=entry["title"],
        summary=entry["summary"].strip(),
        kind=entry["kind"],
        where={"v1": entry["where"].get("v1", ""), "v2": entry["where"].get("v2", "")},
        paper_values=tuple(PaperValue(**value) for value in entry.get("paper_values", [])),
        discrepancies=tuple(entry.get("discrepancies", [])),
        not_testable=entry.get("not_testable", ""),
        limit=_boolean(entry, "limit"),
        quantifier=_choice(entry, "quantifier", QUANTIFIERS, "universal"),
        arithmetic=_choice(entry, "arithmetic", CLAIM_ARITHMETIC,
                           "float" if entry["kind"] in FLOAT_KINDS else "exact"),
        open_parameters=_open_parameters(entry),
    )


#: Kinds of claim the paper made with floating point (a figure, a table): decided in floats unless stated.
FLOAT_KINDS = ("simulation", "deep-net experiment")


def _choice(entry: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = entry.get(key, default)
    if value not in choices:
        raise ValueError(f"claim {entry['id']}: {key} must be one of {choices}, got {value!r}")
    return value


def _open_parameters(entry: dict) -> tuple[OpenParameter, ...]:
    """The claim's ``open_parameters``: required (``[]`` when the paper leaves nothing open), each well formed."""
    if "open_parameters" not in entry:
        raise ValueError(f"claim {entry['id']}: open_parameters is missing; list every parameter the paper leaves "
                         "open (name, natural, sweep), or [] when it leaves none")
    declared = entry["open_parameters"]
    if not isinstance(declared, list):
        raise ValueError(f"claim {entry['id']}: open_parameters must be a list, got {declared!r}")
    parameters = []
    for index, item in enumerate(declared):
        where = f"claim {entry['id']}: open_parameters[{index}]"
        if not isinstance(item, dict) or set(item) != {"name", "natural", "sweep"}:
            raise ValueError(f"{where} must have exactly the keys name, natural, sweep; got {item!r}")
        name, natural, sweep = item["name"], item["natural"], item["sweep"]
        if not isinstance(name, str) or not name.strip() or not isinstance(sweep, str) or not sweep.strip():
            raise ValueError(f"{where}: name and sweep must be non-empty strings")
        if not isinstance(natural, list) or not natural or not all(isinstance(n, str) and n.strip() for n in natural):
            raise ValueError(f"{where}: natural must be a non-empty list of labels (the natural defaults)")
        parameters.append(OpenParameter(name, tuple(natural), sweep))
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"claim {entry['id']}: open_parameters name one parameter twice: {names}")
    return tuple(parameters)


def _boolean(entry: dict, key: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"claim {entry['id']}: {key} must be true or false, got {value!r}")
    return value


def load_registry(path: Path | str = REGISTRY_PATH) -> dict[str, Claim]:
    """All claims, keyed by ID, in the file's order (which follows the paper)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"path {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"path {path} is not a readable claims registry ({error})") from None
    claims: dict[str, Claim] = {}
    for entry in data.get("claim", []):
        claim = _parse(entry)
        if claim.id in claims:
            raise ValueError(f"claims registry lists {claim.id} twice")
        claims[claim.id] = claim
    return claims


@lru_cache(maxsize=1)
def registry() -> dict[str, Claim]:
    """The package's registry, parsed once per process."""
    return load_registry()


def claim(claim_id: str) -> Claim:
    """One claim by ID, for tests that read the paper's numbers."""
    try:
        return registry()[claim_id]
    except KeyError:
        raise ValueError(f"claim_id {claim_id!r} is not in the claims registry") from None
