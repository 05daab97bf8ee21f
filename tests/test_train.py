"""gdcut.train: the L1 subgradient, the closed forms, the loop's seeding, cache and resume, and App. C's optimiser reuse."""
import dataclasses
import fractions

import pytest
import torch
from torch import nn

from gdcut import train
from gdcut.data import DeviceData


def tiny_data(n=48, seed=0) -> DeviceData:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    return DeviceData("random", "random uint8 images", images, labels, images[:16], labels[:16],
                      identity=f"random:{n}:{seed}")


def tiny_config(**changes) -> train.TrainConfig:
    base = dict(model="VGG11", optimiser="sgd", lr=0.01, epochs=2, batch_size=16, seed=0, lambda1=0.01)
    return train.TrainConfig(**{**base, **changes})


def paper_penalty_grads(model, x, y, lambda1):
    """App. B/C: loss = CE + lambda1 * sum over params of abs(param).sum(), one autograd backward."""
    model.zero_grad(set_to_none=True)
    loss_ce = nn.functional.cross_entropy(model(x), y)
    l1_penalty = 0
    for param in model.parameters():
        l1_penalty += torch.abs(param).sum()
    (loss_ce + lambda1 * l1_penalty).backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("bucket_elements", [1, 1000, 1 << 24])
def test_in_place_l1_gradient_equals_the_papers_autograd(bucket_elements):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(4 * 30 * 30, 10))
    with torch.no_grad():  # exact zeros: d|w|/dw must be 0 there, as torch's abs backward gives
        model[0].weight[0] = 0.0
        model[3].bias[:5] = 0.0
    x, y = torch.randn(5, 3, 32, 32), torch.randint(0, 10, (5,))
    expected = paper_penalty_grads(model, x, y, 0.37)
    model.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(model(x), y).backward()
    train.add_l1_subgradient_(list(model.parameters()), 0.37, bucket_elements=bucket_elements)
    for ours, theirs in zip((p.grad for p in model.parameters()), expected):
        assert torch.equal(ours, theirs)


def test_l1_gradient_is_given_to_parameters_without_one():
    p = nn.Parameter(torch.tensor([-2.0, 0.0, 3.0]))
    train.add_l1_subgradient_([p], 0.5)
    assert p.grad.tolist() == [-0.5, 0.0, 0.5]


def test_share_below_threshold_counts_as_the_paper():
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 1e-6, -9e-6, 1e-5], [1.0, -1.0, 2e-5, -3e-6]]))
        model.bias.copy_(torch.tensor([0.5, 0.0]))
    assert train.share_below_threshold(model) == pytest.approx(5 / 10)


def test_training_is_seeded_and_cached(tmp_path):
    data = tiny_data()
    config = tiny_config()
    first = train.train(config, data, cache_dir=tmp_path)
    assert first.from_cache is False and len(first.step_loss) == 2 * 3
    again = train.train(config, data, cache_dir=tmp_path / "other")
    assert again.step_loss == first.step_loss and again.epoch_l1 == first.epoch_l1
    cached = train.train(config, data, cache_dir=tmp_path)
    assert cached.from_cache is True and cached.step_loss == first.step_loss
    other_seed = train.train(dataclasses.replace(config, seed=1), data, cache_dir=tmp_path)
    assert other_seed.step_loss != first.step_loss


def test_cache_key_covers_config_and_data():
    data = tiny_data()
    key = train.cache_key(tiny_config(), data)
    assert key != train.cache_key(tiny_config(lambda1=0.02), data)
    assert key != train.cache_key(tiny_config(), tiny_data(seed=1))
    assert key == train.cache_key(tiny_config(), tiny_data())


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    data = tiny_data()
    config = tiny_config(epochs=3, optimiser="adam", lr=1e-3)
    reference = train.train(config, data, cache_dir=tmp_path / "straight")
    calls = {"n": 0}
    real_l1_norm = train.weights_l1_norm

    def interrupt_in_second_epoch(params):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_l1_norm(params)

    monkeypatch.setattr(train, "weights_l1_norm", interrupt_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train.train(config, data, cache_dir=tmp_path / "resumed")
    assert list((tmp_path / "resumed").glob("*.checkpoint.pt"))
    monkeypatch.setattr(train, "weights_l1_norm", real_l1_norm)
    resumed = train.train(config, data, cache_dir=tmp_path / "resumed")
    assert resumed.step_loss == reference.step_loss
    assert resumed.share_below_threshold == reference.share_below_threshold
    assert not list((tmp_path / "resumed").glob("*.checkpoint.pt"))


def test_weights_stay_float32_under_reduced_precision_forward():
    data = tiny_data(n=16)
    result = train.train(tiny_config(epochs=1, forward_dtype="bfloat16"), data)
    assert result.numerics["weights_dtype"] == "float32"
    assert all(isinstance(v, float) for v in result.step_loss)


SUBNORMAL = 1e-39  # below float32's smallest normal number, 1.18e-38


def test_training_on_a_cpu_flushes_subnormals_and_leaves_them_as_it_found_them(monkeypatch):
    # a subnormal times 1 survives as itself unless the CPU flushes it to zero
    seen = []
    step = train.training_step
    monkeypatch.setattr(train, "training_step", lambda *args: (seen.append(float(torch.tensor([SUBNORMAL]) * 1)),
                                                               step(*args))[1])
    result = train.train(tiny_config(epochs=1), tiny_data(n=16))
    assert seen == [0.0] and result.numerics["subnormals"] == "flushed to zero"
    assert float(torch.tensor([SUBNORMAL]) * 1) == pytest.approx(SUBNORMAL)  # the analytic claims' floats keep them


def test_gelu_and_bn_configs_run_and_report_provenance():
    result = train.train(tiny_config(epochs=1, activation="gelu", batch_norm=True, lambda1=0.0), tiny_data(n=16))
    assert result.numerics["device"] == "cpu" and "float32_matmul_precision" in result.numerics


@pytest.mark.parametrize("changes, name", [
    (dict(optimiser="adagrad"), "optimiser"), (dict(lr=0.0), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(epochs=0), "epochs"), (dict(lambda1=-1.0), "lambda1"), (dict(model="ResNet18"), "model"),
    (dict(forward_dtype="int8"), "forward_dtype"), (dict(seed=-1), "seed"),
    (dict(optimiser_state_from=tiny_config(lr=0.02)), "optimiser_state_from"),
    (dict(optimiser_state_from=tiny_config(optimiser="adam")), "optimiser_state_from"),
    (dict(optimiser_state_from=dataclasses.asdict(tiny_config())), "optimiser_state_from"),
])
def test_config_rejects_bad_arguments(changes, name):
    with pytest.raises(ValueError, match=name):
        tiny_config(**changes)


def test_scale_presets_build_the_papers_settings():
    from gdcut import scales

    paper = scales.l1_config("paper", "v2", "rmsprop", 2.0)
    assert (paper.model, paper.width_divisor, paper.lr, paper.epochs, paper.batch_size, paper.shuffle, paper.seed) == \
        ("VGG16", 1, 0.003, 200, 512, False, 42)
    v1 = scales.l1_config("paper", "v1", "sgd", 0.001)
    assert (v1.lr, v1.epochs, v1.shuffle) == (0.01, 150, True)
    smoke = scales.l1_config("smoke", "v2", "sgd", 0.002)
    assert (smoke.lr, smoke.lambda1) == (paper.lr, 0.002)  # the miniature keeps alpha and lambda1
    assert scales.convergence_config("smoke", "VGG19", "gelu", True, 2).epochs == scales.convergence("smoke").epochs_with_bn
    for scale in ("paper", "smoke"):
        assert scales.convergence(scale).why and scales.l1(scale).why


@pytest.mark.parametrize("call, name", [
    (lambda s: s.l1_config("smoke", "v3", "sgd", 0.002), "version"),
    (lambda s: s.l1_config("smoke", "v1", "adam", 0.1), "optimiser"),
    (lambda s: s.l1_config("smoke", "v2", "sgd", 0.0002), "lambda1"),
    (lambda s: s.convergence_config("smoke", "VGG13", "relu", False, 0), "depth"),
    (lambda s: s.convergence("huge"), "scale"),
])
def test_scale_presets_reject_unknown_settings(call, name):
    from gdcut import scales

    with pytest.raises(ValueError, match=name):
        call(scales)


# --------------------------------------------------------------------------- cache key: code and machine
def test_cache_key_changes_with_the_cpu_thread_count():
    data, config = tiny_data(), tiny_config()
    key = train.cache_key(config, data)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        assert train.cache_key(config, data) != key
    finally:
        torch.set_num_threads(threads)
    assert train.cache_key(config, data) == key


def test_cache_key_changes_with_the_code(monkeypatch):
    data, config = tiny_data(), tiny_config()
    key = train.cache_key(config, data)
    assert train.cache_key(config, data) == key
    monkeypatch.setattr(train, "code_digest", lambda: "0" * 64)
    assert train.cache_key(config, data) != key


def test_result_made_by_other_code_is_not_served(tmp_path, monkeypatch):
    data, config = tiny_data(), tiny_config(epochs=1)
    first = train.train(config, data, cache_dir=tmp_path)
    monkeypatch.setattr(train, "code_digest", lambda: "0" * 64)
    edited = train.train(config, data, cache_dir=tmp_path)
    assert edited.from_cache is False and edited.key != first.key


# --------------------------------------------------------------------------- cache files: data only, bad ones retrained
def _write_other_runs_result(path, data, tmp_path):
    other = train.train(tiny_config(epochs=1, seed=1), data, cache_dir=tmp_path / "other")
    path.write_bytes((tmp_path / "other" / f"{other.key}.result.pt").read_bytes())


CORRUPTIONS = {
    "garbage bytes": lambda path, data, tmp_path: path.write_bytes(b"not a torch file"),
    "truncated": lambda path, data, tmp_path: path.write_bytes(path.read_bytes()[:path.stat().st_size // 2]),
    # a type weights_only refuses, standing in for a pickle that would run code
    "not plain data": lambda path, data, tmp_path: torch.save({"value": fractions.Fraction(1, 3)}, path),
    "another run's result": _write_other_runs_result,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_bad_result_file_is_retrained_and_overwritten(tmp_path, corrupt):
    data, config = tiny_data(), tiny_config(epochs=1)
    first = train.train(config, data, cache_dir=tmp_path)
    path = tmp_path / f"{first.key}.result.pt"
    corrupt(path, data, tmp_path)
    with pytest.warns(UserWarning, match=path.name):
        retrained = train.train(config, data, cache_dir=tmp_path)
    assert retrained.from_cache is False and retrained.step_loss == first.step_loss
    assert train.train(config, data, cache_dir=tmp_path).from_cache is True


def test_a_longer_run_resumes_from_the_kept_final_state_of_a_shorter_one(tmp_path, monkeypatch):
    data = tiny_data()
    shorter, longer = tiny_config(epochs=2, optimiser="adam", lr=1e-3), tiny_config(epochs=4, optimiser="adam", lr=1e-3)
    reference = train.train(longer, data, cache_dir=tmp_path / "straight")
    train.train(shorter, data, cache_dir=tmp_path / "extended", keep_final_state=True)
    assert len(list((tmp_path / "extended").glob("*.final.pt"))) == 1
    epochs_run = []
    real_record = train._record_epoch
    monkeypatch.setattr(train, "_record_epoch", lambda history, *rest: epochs_run.append(history["epoch"]) or
                        real_record(history, *rest))
    extended = train.train(longer, data, cache_dir=tmp_path / "extended", extends=shorter)
    assert epochs_run == [2, 3]  # only the epochs the shorter run did not take
    assert extended.step_loss == reference.step_loss and extended.epoch_l1 == reference.epoch_l1
    assert extended.final_shares == reference.final_shares and extended.steps == reference.steps
    epochs_run.clear()  # without a kept final state the longer run trains from step 0, to the same result
    again = train.train(longer, data, cache_dir=tmp_path / "cold", extends=shorter)
    assert epochs_run == [0, 1, 2, 3] and again.step_loss == reference.step_loss


def test_an_app_c_vgg16_run_with_dropout_resumes_from_a_shorter_one_bit_for_bit(tmp_path):
    # the runs that run on: VGG16 (its dropout draws from the global random state), after App. C's hand-off
    data = tiny_data()
    first = tiny_config(model="VGG16", width_divisor=32, optimiser="adam", lr=3e-3, lambda1=2.0, epochs=1)
    successor = dict(model="VGG16", width_divisor=32, optimiser="adam", lr=3e-3, lambda1=0.002,
                     optimiser_state_from=first)
    shorter, longer = tiny_config(**successor, epochs=2), tiny_config(**successor, epochs=4)
    reference = train.train(longer, data, cache_dir=tmp_path / "straight")
    train.train(shorter, data, cache_dir=tmp_path / "extended", keep_final_state=True)
    extended = train.train(longer, data, cache_dir=tmp_path / "extended", extends=shorter)
    for field in ("step_loss", "epoch_l1", "epoch_share", "final_shares", "test_accuracy", "optimiser_steps"):
        assert getattr(extended, field) == getattr(reference, field), field


@pytest.mark.parametrize("extends", [tiny_config(epochs=4), tiny_config(epochs=1, lr=0.5), "short"])
def test_extends_must_name_a_shorter_run_of_the_same_config(extends):
    with pytest.raises(ValueError, match="extends"):
        train.train(tiny_config(epochs=2), tiny_data(), extends=extends)


def test_bad_checkpoint_is_ignored_and_the_run_starts_over(tmp_path):
    data, config = tiny_data(), tiny_config()
    reference = train.train(config, data)
    checkpoint = tmp_path / f"{train.cache_key(config, data)}.checkpoint.pt"
    checkpoint.write_bytes(b"PK\x03\x04 truncated")
    with pytest.warns(UserWarning, match=checkpoint.name):
        started_over = train.train(config, data, cache_dir=tmp_path)
    assert started_over.step_loss == reference.step_loss and not checkpoint.exists()


def test_result_is_stored_as_what_weights_only_reads_and_read_back_whole(tmp_path):
    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(key, str) and plain(item) for key, item in value.items())
        if isinstance(value, list):
            return all(plain(item) for item in value)
        return value is None or type(value) in (str, int, float, bool, torch.Tensor)

    config = dataclasses.replace(tiny_config(epochs=1), optimiser_state_from=tiny_config(epochs=1, seed=3))
    result = train.train(config, tiny_data(n=16), cache_dir=tmp_path)
    stored = result.to_plain()
    assert plain(stored)
    path = tmp_path / "result.pt"
    torch.save(stored, path)
    back = train.TrainResult.from_plain(torch.load(path, weights_only=True), from_cache=True)
    assert back.config == config and back.from_cache
    for field in dataclasses.fields(train.TrainResult):
        if field.name not in ("config", "from_cache", "initial_weight_sample"):
            assert getattr(back, field.name) == getattr(result, field.name), field.name
    assert torch.equal(back.initial_weight_sample, result.initial_weight_sample)


# --------------------------------------------------------------------------- v2 App. C: one optimiser across the λ1 loop
def app_c_pair(optimiser: str, **changes) -> tuple[train.TrainConfig, train.TrainConfig]:
    """App. C's λ1 = 2 run, then the λ1 = 0.002 run that starts from its optimiser state."""
    first = tiny_config(optimiser=optimiser, lr=1e-3, lambda1=2.0)
    return first, tiny_config(optimiser=optimiser, lr=1e-3, lambda1=0.002, optimiser_state_from=first, **changes)


def test_adam_run_after_another_continues_its_step_count_from_the_same_weights():
    data = tiny_data()
    first, second = app_c_pair("adam")
    after = train.train(second, data)
    fresh = train.train(dataclasses.replace(second, optimiser_state_from=None), data)
    assert fresh.optimiser_steps == fresh.steps == 6
    assert after.optimiser_steps == 2 * 6  # the first run's 6 steps and its own 6
    assert after.step_loss[0] == fresh.step_loss[0]  # the weights are reset: the same start
    assert after.step_loss[1] != fresh.step_loss[1]  # the carried moments and step count move it otherwise
    assert second.describe().endswith("after λ1=2")


def test_sgd_keeps_no_state_so_a_run_after_another_equals_a_fresh_one():
    data = tiny_data()
    first, second = app_c_pair("sgd")
    after = train.train(second, data)
    fresh = train.train(dataclasses.replace(second, optimiser_state_from=None), data)
    assert after.epoch_l1 == fresh.epoch_l1 and after.step_loss == fresh.step_loss
    assert after.optimiser_steps == fresh.optimiser_steps == 6


def test_cache_key_of_a_run_after_another_names_that_run():
    data = tiny_data()
    first, second = app_c_pair("rmsprop")
    _, rebuilt = app_c_pair("rmsprop")
    assert train.cache_key(second, data) == train.cache_key(rebuilt, data)
    assert train.cache_key(second, data) != train.cache_key(dataclasses.replace(second, optimiser_state_from=None), data)
    other_first = dataclasses.replace(first, lambda1=1.0)
    assert train.cache_key(second, data) != train.cache_key(
        dataclasses.replace(second, optimiser_state_from=other_first), data)


def count_runs(monkeypatch) -> list:
    runs = []
    real_run = train._run

    def counting_run(config, *arguments):
        runs.append(config)
        return real_run(config, *arguments)

    monkeypatch.setattr(train, "_run", counting_run)
    return runs


def test_first_run_is_trained_once_for_two_runs_after_it(tmp_path, monkeypatch):
    data = tiny_data()
    first, second = app_c_pair("rmsprop")
    other_second = dataclasses.replace(second, seed=1)
    runs = count_runs(monkeypatch)
    cached = train.train(second, data, cache_dir=tmp_path)
    train.train(other_second, data, cache_dir=tmp_path)
    assert runs == [first, second, other_second]
    assert [path.name for path in tmp_path.glob("*.optimiser.pt")] == [f"{train.cache_key(first, data)}.optimiser.pt"]
    in_memory = train.train(second, data)
    assert cached.epoch_l1 == in_memory.epoch_l1 and cached.optimiser_steps == in_memory.optimiser_steps


def test_first_run_cached_without_its_optimiser_state_is_retrained_to_keep_it(tmp_path, monkeypatch):
    data = tiny_data()
    first, second = app_c_pair("adam")
    train.train(first, data, cache_dir=tmp_path)
    runs = count_runs(monkeypatch)
    train.train(second, data, cache_dir=tmp_path)
    assert runs == [first, second]
    optimiser_file = tmp_path / f"{train.cache_key(first, data)}.optimiser.pt"
    optimiser_file.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=optimiser_file.name):
        train.train(dataclasses.replace(second, seed=1), data, cache_dir=tmp_path)
    assert runs == [first, second, first, dataclasses.replace(second, seed=1)]
