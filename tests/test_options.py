"""The deep-net command-line options: bad values are usage errors naming the option; the ledger records them."""
import pytest

from tests.test_ledger_plugin import Project

MODULE = """
import pytest

@pytest.mark.claim("S1")
def test_one(evidence, run_settings):
    evidence.condition(f"{run_settings.precision} {run_settings.forward_dtype} {run_settings.fashion_mnist_dir}")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    project = Project(pytester)
    project.claims_module("test_one", MODULE)
    return project


@pytest.mark.parametrize("args, named", [
    (["--gdcut-precision", "fp8"], "--gdcut-precision"),
    (["--gdcut-shard", "3/2"], "--gdcut-shard"),
    (["--gdcut-shard", "two"], "--gdcut-shard"),
    (["--gdcut-fashion-mnist", "EMPTY"], "--gdcut-fashion-mnist"),
])
def test_bad_option_values_are_usage_errors_naming_the_option(project, args, named):
    (project.root / "empty").mkdir()
    args = [str(project.root / "empty") if a == "EMPTY" else a for a in args]
    result = project.run("claims", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert named in result.stderr.str()


def test_fashion_mnist_directory_from_the_environment_is_checked_too(project, monkeypatch):
    monkeypatch.setenv("GDCUT_FASHION_MNIST", str(project.root))
    result = project.run("claims")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--gdcut-fashion-mnist" in result.stderr.str() and "train-images-idx3-ubyte.gz" in result.stderr.str()


@pytest.mark.parametrize("chosen, dtype", [("paper", "float32"), ("bf16", "bfloat16")])
def test_the_precision_reaches_the_tests_and_the_ledger(project, chosen, dtype):
    project.run("claims", "--gdcut-precision", chosen).assert_outcomes(passed=1)
    ledger = project.ledger()
    assert ledger["provenance"]["deep-net precision"].startswith(f"{chosen}: ")
    condition = ledger["claims"][0]["conditions"][0]
    assert f"{chosen} {dtype} /usr/share/datasets/fashion-mnist" in condition


def _rewritten(*args: str) -> list[str]:
    """The arguments scripts/verify and scripts/test hand to pytest (scripts/setup's gdcut_rewrite_options)."""
    import subprocess
    from pathlib import Path

    setup = Path(__file__).resolve().parents[1] / "scripts" / "setup"
    script = f'source "{setup}" >/dev/null; gdcut_rewrite_options "$@"; printf "%s\\n" "${{gdcut_args[@]}}" "$gdcut_reports"'
    done = subprocess.run(["bash", "-c", script, "rewrite", *args], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_the_scripts_accept_gdcut_options_written_with_a_space(tmp_path):
    *args, reports = _rewritten("--gdcut-reports", str(tmp_path), "-k", "a b", "--gdcut-allow-download",
                                "--claim", "L3", "--gdcut-scale=tiny", "--gdcut-cache", str(tmp_path / "c"))
    assert args == [f"--gdcut-reports={tmp_path}", "-k", "a b", "--gdcut-allow-download", "--claim=L3",
                    "--gdcut-scale=tiny", f"--gdcut-cache={tmp_path / 'c'}"]
    assert reports == str(tmp_path)
