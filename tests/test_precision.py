"""gdcut.precision and gdcut.progress: precision flags, torch.compile with its fallback, progress output."""
import sys
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gdcut import precision, progress, train
from tests.test_train import tiny_config, tiny_data


def test_precisions_select_the_forward_dtype_and_keep_the_papers_tf32_flags():
    assert precision.forward_dtype("paper") == "float32" and precision.forward_dtype("bf16") == "bfloat16"
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = False, True
    flags = precision.set_kernel_flags()
    assert torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert flags == {"cudnn.allow_tf32": True, "cuda.matmul.allow_tf32": False, "float32_matmul_precision": "highest"}
    assert "cuDNN TF32 on, CUDA matmul TF32 off" in precision.describe("bf16")


def test_unknown_precision_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="precision"):
        precision.forward_dtype("fp8")


@pytest.mark.parametrize("mode, device, wanted", [("auto", "cpu", False), ("auto", "cuda", True), ("on", "cpu", True),
                                                   ("off", "cuda", False)])
def test_compile_is_on_for_cuda_by_default_and_settable(monkeypatch, mode, device, wanted):
    monkeypatch.setenv(precision.COMPILE_ENV, mode)
    assert precision.compile_wanted(torch.device(device)) is wanted


def test_bad_compile_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv(precision.COMPILE_ENV, "yes")
    with pytest.raises(ValueError, match=precision.COMPILE_ENV):
        precision.compile_wanted(torch.device("cpu"))


def failing_compile(function):
    def compiled(x):
        raise RuntimeError("no C compiler")
    return compiled


def test_a_compile_that_fails_at_the_first_call_falls_back_to_eager(monkeypatch):
    monkeypatch.setattr(torch, "compile", failing_compile)
    model = nn.Linear(3, 2)
    wrapped = precision.CompiledOrEager(model, wanted=True)
    x = torch.randn(4, 3)
    with pytest.warns(UserWarning, match="torch.compile failed"):
        assert torch.equal(wrapped(x), model(x))
    assert wrapped.path.startswith("eager (torch.compile failed: RuntimeError")
    assert torch.equal(wrapped(x), model(x))  # later calls go straight to eager


def test_train_records_which_path_ran(monkeypatch):
    monkeypatch.setenv(precision.COMPILE_ENV, "on")
    monkeypatch.setattr(torch, "compile", failing_compile)
    with pytest.warns(UserWarning):
        result = train.train(tiny_config(epochs=1), tiny_data(n=16))
    assert result.numerics["compile"].startswith("eager (torch.compile failed")
    monkeypatch.setenv(precision.COMPILE_ENV, "off")
    eager = train.train(tiny_config(epochs=1), tiny_data(n=16))
    assert eager.step_loss == result.step_loss  # the fallback is the eager run
    assert "model eager" in train.precision_summary(eager)


def test_without_a_terminal_each_epoch_is_one_line_in_the_shared_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "__stderr__", sys.stderr)  # pytest's capture: not a terminal
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    train.train(tiny_config(epochs=2), tiny_data(n=32), tmp_path, progress=True)
    lines = (tmp_path / progress.LOG_NAME).read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("[gdcut gw1] VGG11") and "epoch 2/2" in lines[1]
    assert "samples/s" in lines[1] and "epoch 2/2" in capsys.readouterr().err


class FakeTqdm:
    made = []

    def __init__(self, total, initial, **kwargs):
        self.total, self.n, self.postfix, self.closed = total, initial, None, False
        self.format_dict = {"rate": 10.0}
        FakeTqdm.made.append(self)

    def update(self, n):
        self.n += n

    def set_postfix(self, refresh=True, **values):
        self.postfix = values

    def close(self):
        self.closed = True


def test_on_a_terminal_a_tqdm_bar_shows_step_loss_and_samples_per_second(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "__stderr__", SimpleNamespace(isatty=lambda: True, write=lambda s: None,
                                                           flush=lambda: None))
    monkeypatch.setitem(sys.modules, "tqdm", SimpleNamespace(tqdm=FakeTqdm))
    monkeypatch.setattr(progress, "REFRESH_S", 0.0)
    train.train(tiny_config(epochs=2), tiny_data(n=32), tmp_path, progress=True)
    bar = FakeTqdm.made[-1]
    assert (bar.total, bar.n, bar.closed) == (4, 4, True)
    assert set(bar.postfix) == {"loss", "samples_s"} and bar.postfix["samples_s"] == "160"
    assert len((tmp_path / progress.LOG_NAME).read_text().splitlines()) == 2  # the log is kept as well


def test_without_tqdm_a_terminal_gets_plain_lines(monkeypatch):
    monkeypatch.setattr(sys, "__stderr__", SimpleNamespace(isatty=lambda: True))
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    assert progress.RunProgress("run", 10, 0, 4, None).bar is None


def test_the_plugin_offers_exactly_the_precisions_gdcut_precision_knows():
    from gdcut.ledger import plugin

    assert plugin.PRECISIONS == tuple(precision.PRECISIONS)  # duplicated there so the plugin imports no torch
