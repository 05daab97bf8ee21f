"""gdcut.ledger.inventory: claim links read from the source with ast, without importing it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gdcut.ledger.inventory import LinkedTest, scan_claims, scan_file
from gdcut.ledger.verdict import function_key

ROOT = Path(__file__).resolve().parents[1]


def write(root: Path, relative: str, source: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_function_marks_with_refutes_and_several_claims(tmp_path):
    path = write(tmp_path, "claims/test_a.py", """
        import pytest

        @pytest.mark.claim("L3")
        def test_supports():
            pass

        @pytest.mark.claim("L3", refutes=True)
        @pytest.mark.claim("L4")
        def test_two_claims():
            pass

        @pytest.mark.claim("L5", refutes=False)
        async def test_async():
            pass
    """)
    links = scan_file(path, tmp_path)
    assert links == {
        "L3": [LinkedTest("claims/test_a.py::test_supports", False, frozenset({"claim"})),
               LinkedTest("claims/test_a.py::test_two_claims", True, frozenset({"claim"}))],
        "L4": [LinkedTest("claims/test_a.py::test_two_claims", False, frozenset({"claim"}))],
        "L5": [LinkedTest("claims/test_a.py::test_async", False, frozenset({"claim"}))],
    }


def test_module_pytestmark_single_and_list_is_inherited(tmp_path):
    single = write(tmp_path, "claims/test_single.py", """
        import pytest
        pytestmark = pytest.mark.claim("C1")

        def test_one():
            pass
    """)
    listed = write(tmp_path, "claims/test_list.py", """
        import pytest
        pytestmark = [pytest.mark.fast, pytest.mark.claim("C2", refutes=True)]

        @pytest.mark.gpu
        def test_two():
            pass
    """)
    assert scan_file(single, tmp_path) == {"C1": [LinkedTest("claims/test_single.py::test_one", False, frozenset({"claim"}))]}
    assert scan_file(listed, tmp_path) == {
        "C2": [LinkedTest("claims/test_list.py::test_two", True, frozenset({"fast", "claim", "gpu"}))]
    }


def test_class_marks_apply_to_methods_and_nested_classes(tmp_path):
    path = write(tmp_path, "claims/test_cls.py", """
        import pytest
        from pytest import mark

        @pytest.mark.claim("E1")
        class TestOuter:
            def test_method(self):
                pass

            @mark.claim("E2", refutes=True)
            def test_both(self):
                pass

            class TestInner:
                def test_deep(self):
                    pass

        class Helper:  # not collected by pytest: not a Test class
            @pytest.mark.claim("E9")
            def test_hidden(self):
                pass
    """)
    links = scan_file(path, tmp_path)
    assert [t.key for t in links["E1"]] == [
        "claims/test_cls.py::TestOuter::test_method",
        "claims/test_cls.py::TestOuter::test_both",
        "claims/test_cls.py::TestOuter::TestInner::test_deep",
    ]
    # pytest links `mark.claim(...)` (after `from pytest import mark`) too, so the inventory must.
    assert links["E2"] == [LinkedTest("claims/test_cls.py::TestOuter::test_both", True, frozenset({"claim"}))]
    assert "E9" not in links


def test_non_claim_marks_helpers_and_bad_claim_marks_are_ignored(tmp_path):
    path = write(tmp_path, "claims/test_other.py", """
        import pytest

        @pytest.mark.parametrize("x", [1, 2])
        @pytest.mark.slow
        def test_no_claim(x):
            pass

        @pytest.mark.claim
        def test_bare_mark():
            pass

        @pytest.mark.claim(CLAIM_ID)
        def test_non_literal():
            pass

        @pytest.mark.claim("G1")
        def helper():
            pass

        def test_plain():
            pass
    """)
    assert scan_file(path, tmp_path) == {}


def test_scan_claims_merges_files_in_sorted_order_and_skips_non_test_files(tmp_path):
    write(tmp_path, "claims/test_b.py", 'import pytest\n@pytest.mark.claim("X1")\ndef test_b(): pass\n')
    write(tmp_path, "claims/sub/test_a.py", 'import pytest\n@pytest.mark.claim("X1")\ndef test_a(): pass\n')
    write(tmp_path, "claims/helpers.py", 'import pytest\n@pytest.mark.claim("X1")\ndef test_h(): pass\n')
    links = scan_claims(tmp_path / "claims", tmp_path)
    assert [t.key for t in links["X1"]] == ["claims/sub/test_a.py::test_a", "claims/test_b.py::test_b"]
    assert scan_claims(tmp_path / "missing", tmp_path) == {}


def test_syntax_error_propagates(tmp_path):
    path = write(tmp_path, "claims/test_bad.py", "def test_x(:\n")
    with pytest.raises(SyntaxError):
        scan_file(path, tmp_path)


def test_shipped_claims_are_all_in_the_registry():
    from gdcut.ledger.registry import registry

    root = Path(__file__).resolve().parents[1]
    links = scan_claims(root / "claims", root)
    assert set(links) <= set(registry())


COLLECTED_LINKS = """
import json

def pytest_collection_finish(session):
    links = {{item.nodeid: sorted([m.args[0], bool(m.kwargs.get("refutes", False))]
                                  for m in item.iter_markers("claim")) for item in session.items}}
    with open({out!r}, "w", encoding="utf-8") as handle:
        json.dump(links, handle)
"""


@pytest.mark.slow
def test_the_inventory_agrees_with_what_pytest_collects_from_claims(tmp_path):
    """The ledger reads claim links from the source (ast); pytest's own collection must find the same ones."""
    out = tmp_path / "collected.json"
    (tmp_path / "dump_claim_links.py").write_text(COLLECTED_LINKS.format(out=str(out)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "claims", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "dump_claim_links"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected: dict[str, list] = {}
    for nodeid, links in json.loads(out.read_text(encoding="utf-8")).items():
        previous = collected.setdefault(function_key(nodeid), links)
        assert previous == links, f"{nodeid}: parametrisations with different claim links"
    scanned: dict[str, list] = {}
    for claim_id, tests in scan_claims(ROOT / "claims", ROOT).items():
        for test in tests:
            scanned.setdefault(test.key, []).append([claim_id, test.refutes])
    assert {key: sorted(links) for key, links in scanned.items()} == collected
