"""Tests of gdcut itself; pytester builds throw-away projects for the ledger plugin."""
import importlib

import pytest

pytest_plugins = ["pytester"]

#: Loaded before any pytester project: pytester drops the modules first imported while it exists,
#: torch cannot be imported twice in one process, the ledger's provenance asks for all of them, and
#: inner runs must see the same gdcut.rules.Ruling class as the test that reads them.
PRELOADED = ("jinja2", "matplotlib.pyplot", "scipy.stats", "sklearn", "torch", "torchvision",
             "gdcut.rules", "gdcut.data", "gdcut.deepnet", "gdcut.distribute", "gdcut.figures", "gdcut.program",
             "gdcut.stacked", "gdcut.train")


@pytest.fixture(scope="session")
def preloaded_modules() -> None:
    """Imports PRELOADED once, at the first pytester test rather than at collection (torchvision alone takes seconds)."""
    for name in PRELOADED:
        importlib.import_module(name)


@pytest.fixture
def pytester(preloaded_modules, pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester, created after PRELOADED is imported (its snapshot of sys.modules then keeps them)."""
    return pytester
