"""The cpu scale (gdcut.scales): every L18-L20 run meets the rules' premises by construction, and bad input
is a clear error.

What the deciding rules of ``gdcut.deepnet`` ask of a run (the paper's batch for
RMSProp and Adam, past the penalty-only horizon of its own initial weights,
a settling window after it), checked here on the configs the scale builds,
before anything trains; a run that would need more steps than the cap is a
``HorizonBeyondCap`` naming the cap, never a hang.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace
import gzip

import pytest

from gdcut import data, deepnet, program, scales


def test_auto_picks_the_cpu_scale_without_cuda_and_the_paper_with_it():
    assert scales.resolve_scale("auto", False) == "cpu"
    assert scales.resolve_scale("auto", True) == "paper"


def test_an_unknown_scale_is_a_value_error_naming_the_argument():
    for call in (lambda: scales.l1("gpu"), lambda: scales.convergence("huge"),
                 lambda: scales.resolve_scale("fast", False)):
        with pytest.raises(ValueError, match="scale|requested"):
            call()


@pytest.mark.parametrize("version, optimiser, lambda1", [("v1", "sgd", 0.001), ("v1", "sgd", 0.1),
                                                         ("v2", "sgd", 2.0), ("v2", "rmsprop", 0.002)])
def test_cpu_scale_runs_pass_their_horizon_and_settle_after_it(version, optimiser, lambda1):
    preset = scales.l1("cpu")
    config = scales.l1_config("cpu", version, optimiser, lambda1)
    per_epoch = scales.steps_per_epoch(config, preset.train_size)
    before = None
    cap = scales.run_step_cap(preset, config)
    horizon = scales.penalty_horizon(config, before, cap)
    window = scales.settle_epochs(horizon, per_epoch)
    assert (config.epochs - window) * per_epoch >= horizon  # the window lies after the horizon
    assert config.epochs * per_epoch <= cap
    if optimiser != "sgd":
        assert config.batch_size == deepnet.PAPER_BATCH
    if optimiser == "sgd" and lambda1 == min(scales.V1_L1["lambdas"] if version == "v1" else scales.V2_L1["lambdas"]):
        sample = scales.initial_weight_sample(config.model, config.width_divisor, config.pretrained, config.seed)
        large = max(scales.V1_L1["lambdas"] if version == "v1" else scales.V2_L1["lambdas"])
        assert config.epochs * per_epoch >= scales.sgd_crossing_step(sample.double().numpy(), config.lr, lambda1,
                                                                     large, cap + 1)


def test_a_batch_512_run_has_its_own_cap_since_its_steps_cost_more():
    preset = scales.l1("cpu")
    sgd, adam = scales.l1_config("cpu", "v2", "sgd", 2.0), scales.l1_config("cpu", "v2", "adam", 2.0)
    assert scales.run_step_cap(preset, sgd) == preset.step_cap == 250_000
    assert adam.batch_size == deepnet.PAPER_BATCH and scales.run_step_cap(preset, adam) == 60_000
    assert scales.run_step_cap(scales.l1("smoke"), sgd) is None


def test_a_cap_below_the_horizon_is_an_error_naming_the_cap_and_leaves_the_job_out():
    capped = dataclasses.replace(scales.l1("cpu"), step_cap=1_000)
    config = dataclasses.replace(scales.l1_config("cpu", "v1", "sgd", 0.1), epochs=1)
    small = dataclasses.replace(config, lambda1=0.001)
    with pytest.raises(scales.HorizonBeyondCap, match="step_cap: .* beyond the scale's cap of 1,000"):
        scales.l1_run_epochs(small, capped, 0.1)
    assert isinstance(scales.HorizonBeyondCap("x"), ValueError)
    ruling = deepnet.beyond_cap_ruling(scales.HorizonBeyondCap("step_cap: too long"), deepnet.L1_ORDER_RULE)
    assert ruling.decision == "inconclusive" and ruling.reason == "not run: step_cap: too long"
    with pytest.raises(ValueError, match="error"):
        deepnet.beyond_cap_ruling(ValueError("other"), deepnet.L1_ORDER_RULE)


def test_horizon_runs_need_a_preset_with_a_cap():
    config = scales.l1_config("smoke", "v2", "sgd", 2.0)
    with pytest.raises(ValueError, match="preset"):
        scales.l1_run_epochs(config, scales.l1("smoke"))


def test_program_leaves_out_a_run_beyond_the_cap(monkeypatch):
    # both caps low, so that no horizon is simulated beyond 3,000 steps (Adam's App. C source alone needs 5,008)
    capped = dataclasses.replace(scales.l1("cpu"), step_cap=3_000, adaptive_step_cap=3_000)
    monkeypatch.setitem(scales.L1, "cpu", capped)
    scales.penalty_horizon.cache_clear()
    names = [job.name for job in program._l1_jobs("cpu", "float32")]
    assert "L18:v1-sgd-lambda0.1" in names and "L18:v1-sgd-lambda0.001" not in names
    assert "L19-20:v2-sgd-lambda0.002" not in names
    assert "L19-20:v2-adam-lambda2-then-0.002-appC" not in names and "L19-20:v2-rmsprop-lambda0.002-fresh" in names


def test_the_cpu_sweep_covers_two_optimisers_by_two_rates_and_program_trains_each_setting():
    preset = scales.convergence("cpu")
    assert deepnet.unswept(preset.settings) == []
    jobs = program._convergence_jobs("cpu", "float32", stack=False)
    assert len(jobs) == len(preset.depths) * 2 * 2 * len(preset.settings) * len(preset.seeds)
    trained = {(c.optimiser, c.lr) for job in jobs for c in job.configs}
    assert trained == set(preset.settings)


def test_a_data_folder_without_the_four_fashion_mnist_files_names_the_missing_ones(tmp_path):
    train_images, train_labels = data.FASHION_MNIST_FILES["train"]
    for name in (train_images, train_labels):
        with gzip.open(tmp_path / name, "wb") as handle:
            handle.write(b"")
    with pytest.raises(ValueError, match="fashion_mnist_dir .* lacks the Fashion-MNIST files .*t10k"):
        data.fashion_mnist_directory(tmp_path)
    with pytest.raises(data.DataUnavailable, match="apt-get install dataset-fashion-mnist"):
        data.load("cpu", fashion_mnist_dir=tmp_path)


def test_a_run_that_has_not_settled_runs_on_twice_as_long_from_where_it_ended_up_to_the_cap(monkeypatch, tmp_path):
    """The certificate fails after the closed form's horizon: the run goes on (``deepnet.settled``), resumed from
    its kept final state, not "inconclusive"; past the cap, or at a scale of fixed lengths, it may not."""
    import torch

    from gdcut import train

    first = scales.l1_config("cpu", "v1", "sgd", 0.001)
    asked = []
    monkeypatch.setattr(train, "train", lambda config, data, cache_dir=None, **options: asked.append(
        (config, options)) or SimpleNamespace(config=config, steps=config.epochs * 512))
    settings = scales.RunSettings("cpu", torch.device("cpu"), None, False, tmp_path, "paper", "float32", tmp_path)
    run = SimpleNamespace(config=first, steps=first.epochs * 512)
    longer = deepnet.lengthened(settings, None, run)
    assert longer.config == dataclasses.replace(first, epochs=2 * first.epochs)
    assert asked == [(longer.config, {"progress": True, "keep_final_state": True, "extends": first,
                                      "keep_optimiser_state": False})]
    assert scales.may_run_on("cpu") and not scales.may_run_on("smoke")
    handing_on = scales.l1_config("cpu", "v2", "adam", 2.0, procedure="app-c")  # it keeps its state for a successor
    source = deepnet.lengthened(settings, None, SimpleNamespace(config=handing_on, steps=handing_on.epochs * 16))
    assert asked[-1] == (source.config, {"progress": True, "keep_final_state": True, "extends": handing_on,
                                         "keep_optimiser_state": True})
    capped = dataclasses.replace(scales.l1("cpu"), step_cap=3 * run.steps // 2)
    monkeypatch.setitem(scales.L1, "cpu", capped)
    assert deepnet.lengthened(settings, None, run) is None  # twice as long would pass the cap


def test_a_successor_starts_again_from_a_lengthened_source_at_its_horizon_or_the_length_it_ran_on_to():
    """v2 App. C: the λ1 = 0.002 run starts from the optimiser state the λ1 = 2 run ends with, so a longer λ1 = 2
    run gives it another start: as long as its horizon after that state needs, or as long as it had run on to past
    its own horizon (it had not settled before that length)."""
    successor = scales.l1_config("cpu", "v2", "rmsprop", 0.002, procedure="app-c")
    source = successor.optimiser_state_from
    longer = dataclasses.replace(source, epochs=2 * source.epochs)
    horizon = scales.l1_run_epochs(dataclasses.replace(successor, optimiser_state_from=longer), scales.l1("cpu"))
    rebased = scales.successor_config("cpu", successor, longer)
    assert rebased.optimiser_state_from == longer and rebased.epochs == horizon
    ran_on = dataclasses.replace(successor, epochs=4 * max(horizon, successor.epochs))
    assert scales.successor_config("cpu", ran_on, longer).epochs == ran_on.epochs
    assert scales.successor_config("cpu", successor, source) == successor
    with pytest.raises(ValueError, match="config must be an App. C successor"):
        scales.successor_config("cpu", source, longer)
