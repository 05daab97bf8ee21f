"""Which tests the source links to which claims, read without importing them.

The ledger must tell "encoded but not run in this session" from "not encoded
at all", whatever subset of tests ran, and under pytest-xdist the controller
never sees deselected items.  Parsing ``claims/`` with :mod:`ast` answers the
question from the source itself, cheaply and without importing torch.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LinkedTest:
    key: str  # "claims/test_x.py::test_name" (or ::Class::test_name), as in node IDs
    refutes: bool
    markers: frozenset[str]


def _mark_name_and_call(node: ast.expr) -> tuple[str, ast.Call | None] | None:
    """``pytest.mark.NAME`` or ``mark.NAME`` (``from pytest import mark``), called or not -> (NAME, call or None)."""
    call = node if isinstance(node, ast.Call) else None
    target = node.func if call else node
    if isinstance(target, ast.Attribute) and (
        (isinstance(target.value, ast.Attribute) and target.value.attr == "mark")
        or (isinstance(target.value, ast.Name) and target.value.id == "mark")
    ):
        return target.attr, call
    return None


def _marks(nodes: list[ast.expr]) -> list[tuple[str, ast.Call | None]]:
    found = []
    for node in nodes:
        if isinstance(node, (ast.List, ast.Tuple)):
            found.extend(_marks(list(node.elts)))
        elif (mark := _mark_name_and_call(node)) is not None:
            found.append(mark)
    return found


def _claims_of(marks) -> list[tuple[str, bool]]:
    links = []
    for name, call in marks:
        if name != "claim" or call is None or not call.args or not isinstance(call.args[0], ast.Constant):
            continue
        refutes = any(
            kw.arg == "refutes" and isinstance(kw.value, ast.Constant) and bool(kw.value.value) for kw in call.keywords
        )
        links.append((str(call.args[0].value), refutes))
    return links


def _module_marks(tree: ast.Module):
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets
        ):
            return _marks([statement.value])
    return []


def scan_file(path: Path, rootdir: Path) -> dict[str, list[LinkedTest]]:
    """Claim ID -> linked tests defined in one test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = path.relative_to(rootdir).as_posix()
    inherited = _module_marks(tree)
    links: dict[str, list[LinkedTest]] = {}

    def visit(body, prefix: str, outer_marks):
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                visit(node.body, f"{prefix}::{node.name}", outer_marks + _marks(node.decorator_list))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                marks = outer_marks + _marks(node.decorator_list)
                names = frozenset(name for name, _ in marks)
                for claim_id, refutes in _claims_of(marks):
                    links.setdefault(claim_id, []).append(
                        LinkedTest(f"{prefix}::{node.name}", refutes, names)
                    )

    visit(tree.body, relative, inherited)
    return links


def scan_claims(claims_dir: Path, rootdir: Path) -> dict[str, list[LinkedTest]]:
    """Claim ID -> linked tests, over every ``test_*.py`` under ``claims_dir``."""
    links: dict[str, list[LinkedTest]] = {}
    if not claims_dir.is_dir():
        return links
    for path in sorted(claims_dir.rglob("test_*.py")):
        try:
            found = scan_file(path, rootdir)
        except SyntaxError:  # pytest reports it as a collection error; the ledger must still be written
            continue
        for claim_id, tests in found.items():
            links.setdefault(claim_id, []).extend(tests)
    return links
