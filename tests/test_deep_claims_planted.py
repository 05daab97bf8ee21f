"""The real C6 claim module on planted runs: the measurement, not the test, decides the verdict.

``gdcut.train.train`` is replaced by a function that returns runs with a known
outcome, and ``claims/test_deep_convergence.py`` runs unchanged in a pytester
project: paper-agreeing curves (ReLU and GELU equal in every seed) must make
C6 ``holds`` across the sweep (its settings, both training lengths and two data sets), nets that never
trained ``inconclusive``, and a clear gap in every setting of the sweep ``refuted``, each with exit status 0
(issue #9).
One unswept setting of the optimiser the paper does not state (the smoke
scale) decides nothing in either direction (``deepnet.sweep_ruling``), and nor do runs on one data set
(rule 5: the paper leaves the data set open, and CIFAR-10 is its natural default).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import types

import pytest
import torch

from gdcut import train

pytest_plugins = ["gdcut.ledger.plugin"]
KIND = {kind!r}
DATA = {data!r}  # the data sets the planted runs trained on, by seed: what the sweep of the data set reads


def planted(config, data, cache_dir=None, **options):
    seed_noise = (config.seed - 2) * 0.01            # the same in both runs of a pair
    gap = 0.3 if KIND == "differ" and config.activation == "relu" else 0.0
    area = 1.0 + seed_noise + gap
    return train.TrainResult(
        config=config, data=DATA[config.seed % len(DATA)] + ":planted", initialisation="planted", steps=10, optimiser_steps=10,
        step_loss=(area,) * 10, epoch_loss=(2.3,) * config.epochs if KIND == "void" else (area,) * config.epochs,
        epoch_l1=(1.0,) * config.epochs, epoch_share=(0.0,) * config.epochs,
        epoch_seconds=(0.0,) * config.epochs, share_below_threshold=0.0, parameters=0, test_accuracy=0.0,
        initial_weight_sample=torch.zeros(0),
        numerics=dict(train.numerical_settings(torch.device("cpu")), compile="eager (planted)"))


@pytest.fixture(scope="module")
def dataset():
    return types.SimpleNamespace(name="planted", source="planted runs", train_labels=[0] * 32)


@pytest.fixture(autouse=True)
def planted_training(monkeypatch):
    monkeypatch.setattr(train, "train", planted)
"""


UNSWEPT = "the sweep does not cover what the paper leaves open"
UNTRAINED = UNSWEPT + " among the settings whose nets trained"  # none did: every setting is void
BOTH = ("cifar10", "fashion-mnist")
ONE_DATA_SET = "not swept over what the paper leaves open: data set (natural defaults CIFAR-10)"


@pytest.mark.parametrize("scale, kind, data, verdict, reason, rulebook_reason", [
    ("cpu", "agree", BOTH, "holds", "", ""), ("cpu", "differ", BOTH, "refuted", "", ""),
    ("cpu", "void", BOTH, "inconclusive", UNTRAINED, ""),
    ("cpu", "agree", ("fashion-mnist",), "inconclusive", "", ONE_DATA_SET),
    ("cpu", "differ", ("fashion-mnist",), "inconclusive", "", ONE_DATA_SET),
    ("smoke", "agree", BOTH, "inconclusive", UNSWEPT, ""), ("smoke", "differ", BOTH, "inconclusive", UNSWEPT, "")])
def test_planted_c6_outcome_decides_the_verdict_with_exit_zero(pytester, scale, kind, data, verdict, reason,
                                                               rulebook_reason):
    """The cpu scale's sweep covers the optimiser, the rate and two training lengths, so the planted outcome
    decides, whichever way it points, where the runs also trained on two data sets, CIFAR-10 among them. Neither
    the smoke scale's one setting, nor a sweep whose nets did not train, nor runs on one data set decide anything
    (symmetric evidence)."""
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(CONFTEST.format(kind=kind, data=data))
    (pytester.path / "claims").mkdir()
    shutil.copy(ROOT / "claims" / "test_deep_convergence.py", pytester.path / "claims")
    # importlib mode: this process may already hold the real claims module under the same name
    result = pytester.runpytest("claims", "--claim", "C6", f"--gdcut-scale={scale}", "--gdcut-reports=out",
                                "--import-mode=importlib", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    claims = {c["id"]: c for c in json.loads((pytester.path / "out" / "ledger.json").read_text())["claims"]}
    assert claims["C6"]["verdict"] == verdict
    cells = [cell for group in claims["C6"]["decisions"] for cell in group["cells"]]
    assert [cell["condition"] for cell in cells] == ["VGG11 with batch norm, across the sweep",
                                                     "VGG19 with batch norm, across the sweep"]
    assert all(cell["reason"].startswith(reason) and cell["rulebook_reason"] == rulebook_reason for cell in cells)
