"""scripts/gpu-check: its arguments, its projection arithmetic, and its degraded CPU mode end to end."""
import importlib.machinery
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "gpu-check"
FASHION = Path("/usr/share/datasets/fashion-mnist")


def load_script():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(SCRIPT))
    spec = importlib.util.spec_from_loader("gpu_check", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


gpu_check = load_script()


@pytest.mark.parametrize("argv, named", [
    ([], "OUTDIR"),
    (["OUT", "--budget-s", "0"], "--budget-s"),
    (["OUT", "--precision", "fp8"], "--precision"),
    (["OUT", "--fashion-mnist", "EMPTY"], "--fashion-mnist"),
    (["A_FILE"], "OUTDIR"),
])
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, capsys, argv, named):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_file").write_text("")
    where = {"OUT": str(tmp_path / "out"), "EMPTY": str(tmp_path / "empty"), "A_FILE": str(tmp_path / "a_file")}
    with pytest.raises(SystemExit) as stopped:
        gpu_check.parse_args([where.get(a, a) for a in argv])
    assert stopped.value.code == 2
    assert named in capsys.readouterr().err


def test_fashion_mnist_from_the_environment_must_hold_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GDCUT_FASHION_MNIST", str(tmp_path))
    with pytest.raises(SystemExit):
        gpu_check.parse_args([str(tmp_path / "out")])
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err


def test_projection_adds_every_paper_job_at_its_measured_epoch_time():
    args = SimpleNamespace(cpu_smoke=False, precision="bf16")
    vgg16_only = gpu_check.projection(args, {gpu_check.VGG16_JOB: {"epoch_s": 1.0},
                                             gpu_check.STACKED_JOB: {"epoch_s": 0.0}})
    # v2: 2 App. C chains of two 200-epoch runs, 2 SGD and 2 fresh-state runs of 200; v1: 2 runs of 150 epochs
    assert vgg16_only["total_s"] == 2 * 2 * 200 + 4 * 200 + 2 * 150
    assert vgg16_only["runs"] == 10 + 3 * 2 * 2 * 5  # ten VGG16 runs, 60 cfg-VGG runs (3 depths, BN, act, 5 seeds)
    groups_only = gpu_check.projection(args, {gpu_check.VGG16_JOB: {"epoch_s": 0.0},
                                              gpu_check.STACKED_JOB: {"epoch_s": 1.0}})
    assert groups_only["total_s"] == 12 * 30 and groups_only["jobs"] == 8 + 12


@pytest.mark.slow
@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").is_file(), reason="Fashion-MNIST not installed")
def test_cpu_smoke_mode_writes_the_summary_figure_and_ledger(tmp_path):
    assert gpu_check.main([str(tmp_path), "--cpu-smoke"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["mode"].startswith("cpu-smoke")
    assert set(summary["benchmark"]) == {"paper", "bf16"}
    assert summary["runs"][gpu_check.STACKED_JOB]["runs"] == 5
    assert summary["claims"]["pytest exit status"] == 0 and summary["claims"]["verdicts"]
    for name in ("summary.md", "bench.svg", "reports/ledger.json", "reports/ledger.html"):
        assert (tmp_path / name).is_file(), name
