"""Pre-registration you can check: a digest of each decision rule and the commit where it last changed.

A decision rule is fixed before the run when neither its words nor the code
that applies it changed after the commit that last touched them. For every
test that records decisions (``evidence.decision``) the digest covers the
rule's text, statistic and threshold as recorded, the source of the test
function, and the source of each ``gdcut`` function it calls by module
(``analytic_rules.c1_rule(...)``, ``deepnet.uncertified(...)``): the code that
computes the statistic and applies the threshold. ``git blame`` of those lines
gives the newest commit among them, with its date. Without git history (an
sdist, a copied tree) the digest is still computed and the commit reads
``UNVERIFIED``: nothing then ties the rule to a time.
"""
from __future__ import annotations

import ast
import hashlib
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The commit of a rule whose history cannot be read.
UNVERIFIED = "unverified (no git history: the digest cannot be tied to a commit)"
#: The commit of a rule whose code has changes not yet committed.
UNCOMMITTED = "uncommitted (the working tree changes this rule's code)"

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Span:
    """Lines ``first``-``last`` of ``path`` (relative to the root), and their text."""
    path: str
    first: int
    last: int
    text: str


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, node)
    return found


def _parsed(path: Path) -> tuple[str, ast.Module] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parsed_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _parsed_version(path: Path, mtime_ns: int, size: int) -> tuple[str, ast.Module] | None:
    """One version of a source file, parsed once (the ledger asks for a module once per rule)."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _span(root: Path, path: Path, node: ast.AST, text: str) -> Span:
    lines = text.splitlines()
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return Span(str(path.relative_to(root)), first, node.end_lineno, "\n".join(lines[first - 1:node.end_lineno]))


def _gdcut_modules(tree: ast.Module) -> dict[str, str]:
    """Local name -> gdcut module path (``from gdcut import deepnet``, ``import gdcut.rules as rules``)."""
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gdcut":
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "gdcut" and alias.asname:
                    names[alias.asname] = alias.name
    return names


def _returns_ruling(node: ast.FunctionDef) -> bool:
    return node.returns is not None and "Ruling" in ast.unparse(node.returns)


def _called(function: ast.AST, modules: dict[str, str]) -> list[tuple[str | None, str]]:
    """(module local name or None for this module, function name) of every call in ``function``."""
    calls = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in modules:
            calls.add((node.func.value.id, node.func.attr))
        elif isinstance(node.func, ast.Name):
            calls.add((None, node.func.id))
    return sorted(calls, key=lambda call: (call[0] or "", call[1]))


def code_spans(root: Path, test_key: str, depth: int = 3) -> list[Span]:
    """The source that applies the rules of the test ``test_key`` (``claims/x.py::test_f``).

    The test function, then every function returning a ``Ruling`` that it calls (by a
    ``gdcut`` module name or within its own module), and those that they call, ``depth`` deep.
    """
    file_part, _, name = test_key.partition("::")
    name = name.split("::")[-1].split("[")[0]
    spans: list[Span] = []
    seen: set[tuple[Path, str]] = set()
    frontier = [(root / file_part, name, True)]
    for _ in range(depth + 1):
        following = []
        for path, function_name, is_test in frontier:
            if (path, function_name) in seen:
                continue
            seen.add((path, function_name))
            parsed = _parsed(path)
            if parsed is None:
                continue
            text, tree = parsed
            function = _functions(tree).get(function_name)
            if function is None or not (is_test or _returns_ruling(function)):
                continue
            spans.append(_span(root, path, function, text))
            modules = _gdcut_modules(tree)
            for local, called in _called(function, modules):
                target = path if local is None else root / (modules[local].replace(".", "/") + ".py")
                following.append((target, called, False))
        frontier = following
    return spans


def digest(rule: str, statistic: str, threshold: str, spans: list[Span]) -> str:
    """sha256 (first 16 hex digits) of the rule's words and the source that applies them."""
    parts = [rule, statistic, threshold] + [f"{s.path}\n{s.text}" for s in spans]
    return hashlib.sha256("\n\0".join(parts).encode("utf-8")).hexdigest()[:16]


def _blame(root: Path, span: Span) -> list[tuple[str, int]] | None:
    """(commit, committer time) of each line of ``span``; None without git history."""
    try:
        stat = (root / span.path).stat()
    except OSError:
        return None
    blamed = _file_blame(root, span.path, stat.st_mtime_ns, stat.st_size)
    if blamed is None:
        return None
    return [blamed[line] for line in range(span.first, span.last + 1) if line in blamed]


@lru_cache(maxsize=64)
def _file_blame(root: Path, path: str, mtime_ns: int, size: int) -> dict[int, tuple[str, int]] | None:
    """line -> (commit, committer time) for one version of a file: one ``git blame`` per file and run."""
    try:
        done = subprocess.run(["git", "blame", "--porcelain", "--", path], cwd=root, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    lines, times, commit = {}, {}, None
    for line in done.stdout.splitlines():
        head = line.split(" ")
        if len(head) >= 3 and len(head[0]) == 40 and all(c in "0123456789abcdef" for c in head[0]):
            commit = head[0]
            lines[int(head[2])] = commit
        elif line.startswith("committer-time ") and commit:
            times[commit] = int(line.split()[1])
    return {number: (c, times.get(c, 0)) for number, c in lines.items()}


def last_change(root: Path, spans: list[Span]) -> str:
    """"<short commit> <ISO date>" of the newest commit among the lines of ``spans``, or why there is none."""
    from datetime import datetime, timezone

    if not spans:
        return UNVERIFIED
    newest = (None, -1)
    for span in spans:
        blamed = _blame(root, span)
        if blamed is None:
            return UNVERIFIED
        for commit, when in blamed:
            if set(commit) == {"0"}:
                return UNCOMMITTED
            if when > newest[1]:
                newest = (commit, when)
    if newest[0] is None:
        return UNVERIFIED
    date = datetime.fromtimestamp(newest[1], timezone.utc).isoformat(timespec="seconds")
    return f"{newest[0][:10]} {date}"


def test_registration(test_key: str, root: Path | None = None) -> dict:
    """``{"code_digest", "code_commit"}`` of one test function's source (an ordinary test: its assertion)."""
    root = Path(root) if root is not None else PACKAGE_ROOT
    spans = code_spans(root, test_key, depth=0)
    return {"code_digest": digest("", "", "", spans), "code_commit": last_change(root, spans) if spans else UNVERIFIED}


#: The functions of the rulebook that weigh every cell (``gdcut.ledger.verdict``).
RULEBOOK_FUNCTIONS = ("rule_cell", "cells", "counted_as", "claim_verdict", "_unswept")


def rulebook_registration(root: Path | None = None) -> dict:
    """``{"rule_digest", "rule_commit", "rule_code"}`` of the rulebook's own code, which weighs every claim."""
    root = Path(root) if root is not None else PACKAGE_ROOT
    path = PACKAGE_ROOT / "gdcut" / "ledger" / "verdict.py"
    parsed = _parsed(path)
    if parsed is None:
        return {"rule_digest": "", "rule_commit": UNVERIFIED, "rule_code": []}
    text, tree = parsed
    functions = _functions(tree)
    spans = [_span(PACKAGE_ROOT, path, functions[name], text) for name in RULEBOOK_FUNCTIONS if name in functions]
    return {"rule_digest": digest("rulebook", "", "", spans), "rule_commit": last_change(PACKAGE_ROOT, spans),
            "rule_code": [f"{s.path}:{s.first}-{s.last}" for s in spans]}


def registration(rule: str, statistic: str, threshold: str, test_keys: list[str], root: Path | None = None) -> dict:
    """``{"rule_digest", "rule_commit", "rule_code"}`` for one rule recorded by the tests ``test_keys``.

    ``root`` is the project root the tests' paths are relative to (default: the
    checkout gdcut is imported from). ``rule_code`` lists the spans digested.
    """
    root = Path(root) if root is not None else PACKAGE_ROOT
    spans = list(dict.fromkeys(span for key in sorted(set(test_keys)) for span in code_spans(root, key)))
    return {"rule_digest": digest(rule, statistic, threshold, spans),
            "rule_commit": last_change(root, spans) if spans else UNVERIFIED,
            "rule_code": [f"{s.path}:{s.first}-{s.last}" for s in spans]}
