"""gdcut.distribute and gdcut.program: GPU pinning, shards, the per-run lock, and jobs that match the claims."""
import multiprocessing
from types import SimpleNamespace

import pytest
import torch

from gdcut import deepnet, distribute, program, scales, train
from tests.test_train import tiny_config, tiny_data


@pytest.mark.parametrize("worker, count, gpu", [("gw0", 4, 0), ("gw3", 4, 3), ("gw5", 4, 1), ("gw7", 1, 0)])
def test_worker_k_is_pinned_to_gpu_k_mod_count(worker, count, gpu):
    assert distribute.gpu_for_worker(worker, count) == gpu


def test_an_xdist_worker_sets_its_gpu_at_configure_with_a_simulated_device_count(monkeypatch):
    chosen = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    for worker in ("gw0", "gw1", "gw2", "gw3", "gw4"):
        config = SimpleNamespace(workerinput={"workerid": worker}, getoption=lambda name: None,
                                 addinivalue_line=lambda *a: None,
                                 pluginmanager=SimpleNamespace(hasplugin=lambda name: True))
        distribute.pytest_configure(config)
    assert chosen == [0, 1, 2, 0, 1]


@pytest.mark.parametrize("worker", ["main", "gw", "gwx", 3])
def test_a_worker_name_that_is_not_gwK_is_rejected(worker):
    with pytest.raises(ValueError, match="worker_id"):
        distribute.gpu_for_worker(worker, 2)


@pytest.mark.parametrize("text, shard", [("1/1", (1, 1)), ("2/3", (2, 3)), (" 3/3 ", (3, 3))])
def test_shard_option_is_parsed(text, shard):
    assert distribute.parse_shard(text) == shard


@pytest.mark.parametrize("text", ["3/2", "0/2", "1", "a/b", "1/0", "-1/2"])
def test_bad_shard_is_a_value_error_naming_the_option(text):
    with pytest.raises(ValueError, match="--gdcut-shard"):
        distribute.parse_shard(text)


def _train_and_count(cache_dir, log, threads):
    # in a child process: count every run train really makes, then train. The parent's thread count comes
    # along because it is part of the cache key (an xdist worker runs with fewer threads than a fresh process).
    torch.set_num_threads(threads)
    real = train._run

    def counted(*arguments):
        with open(log, "a") as handle:
            print("trained", file=handle)
        return real(*arguments)
    train._run = counted
    train.train(tiny_config(epochs=1), tiny_data(n=32), cache_dir)


def test_two_processes_asking_for_one_run_train_it_once(tmp_path):
    log = tmp_path / "trained.log"
    # spawn, not fork: a child forked after torch started its thread pool (any earlier test in this process
    # that trained) deadlocks in its first parallel kernel
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_train_and_count, args=(tmp_path / "cache", log, torch.get_num_threads()))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)  # a hang guard, generous on purpose: a loaded machine must not fail it
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert log.read_text().splitlines() == ["trained"]
    assert train.train(tiny_config(epochs=1), tiny_data(n=32), tmp_path / "cache").from_cache


@pytest.mark.parametrize("scale", ["tiny", "cpu", "paper"])
@pytest.mark.parametrize("precision", ["paper", "bf16"])
def test_jobs_train_exactly_the_runs_the_claim_tests_ask_for(monkeypatch, scale, precision):
    asked = set()
    monkeypatch.setattr(train, "train", lambda config, data, cache_dir, progress=False, checkpoint_every=1,
                        keep_optimiser_state=False, keep_final_state=False:
                        asked.add((config, keep_optimiser_state, keep_final_state)) or {})
    settings = SimpleNamespace(scale=scale, cache_dir=None, forward_dtype={"paper": "float32", "bf16": "bfloat16"}[
        precision])
    for depth in scales.convergence(scale).depths:
        for batch_norm in (False, True):
            deepnet.convergence_sweep(settings, None, depth, batch_norm)
    deepnet.v1_runs(settings, None)
    for optimiser, procedure in deepnet.v2_cells():
        deepnet.v2_runs(settings, None, optimiser, procedure)
    for stack in (False, True):
        made = set()
        for job in program.jobs(scale, precision, {program.CONVERGENCE_MODULE, program.L1_MODULE}, stack):
            for config in job.configs:
                made.add((config, job.keep_optimiser_state, job.keep_final_state))
                if config.optimiser_state_from is not None:  # Job.run trains it first, keeping its state
                    made.add((config.optimiser_state_from, True, job.keep_final_state))
        assert made == asked


def test_an_app_c_chain_job_keeps_its_sources_final_state_so_a_run_on_of_the_source_resumes(tmp_path, monkeypatch):
    data = tiny_data(n=32)
    source = tiny_config(optimiser="adam", lr=3e-3, lambda1=2.0, epochs=2)
    successor = tiny_config(optimiser="adam", lr=3e-3, lambda1=0.002, epochs=1, optimiser_state_from=source)
    program.Job("chain", (successor,), (32, 16), keep_final_state=True).run(data, tmp_path, progress=False)
    assert (tmp_path / f"{train.cache_key(source, data)}.final.pt").exists()
    epochs_run = []
    real_record = train._record_epoch
    monkeypatch.setattr(train, "_record_epoch", lambda history, *rest: epochs_run.append(history["epoch"]) or
                        real_record(history, *rest))
    longer = train.train(tiny_config(optimiser="adam", lr=3e-3, lambda1=2.0, epochs=4), data, tmp_path,
                         extends=source, keep_optimiser_state=True)
    assert epochs_run == [2, 3] and longer.steps == 2 * 2 * 32 // source.batch_size  # resumed, not from step 0
    program.Job("chain", (successor,), (32, 16)).run(data, tmp_path / "fixed", progress=False)
    assert not list((tmp_path / "fixed").glob("*.final.pt"))  # a scale whose runs do not run on keeps none


@pytest.mark.parametrize(("numprocesses", "dist", "expected"), [
    (2, "no", "loadgroup"),   # -n 2 alone: groups of shared computations stay on one worker
    (2, "load", "load"),      # an explicit --dist is kept
    (None, "no", "no"),       # no -n: no distribution at all
])
def test_xdist_defaults_to_loadgroup_only_when_no_dist_was_given(numprocesses, dist, expected):
    config = SimpleNamespace(option=SimpleNamespace(numprocesses=numprocesses, dist=dist))
    distribute.pytest_cmdline_main(config)
    assert config.option.dist == expected
