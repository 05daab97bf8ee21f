"""gdcut.ledger.inventory: claim links read from the source with ast, without importing it."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gdcut.ledger.inventory import LinkedTest, scan_claims, scan_file


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
