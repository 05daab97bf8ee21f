"""gdcut.stacked: seeds trained at once give the results of separate runs, cached under each run's own key."""

import pytest
import torch

from gdcut import stacked, train
from tests.test_train import tiny_data


def seed_group(seeds=(0, 1, 2), **changes) -> list[train.TrainConfig]:
    base = {**dict(model="VGG11", optimiser="adam", lr=1e-3, epochs=2, batch_size=16, seed=0), **changes}
    return [train.TrainConfig(**{**base, "seed": seed}) for seed in seeds]


@pytest.mark.parametrize("changes", [{}, {"batch_norm": True, "activation": "gelu"},
                                     {"optimiser": "sgd", "lambda1": 0.01, "lr": 0.05}])
def test_stacked_runs_match_separate_runs_to_float_tolerance(changes):
    data = tiny_data(n=40)  # 40 / 16: a short last batch, as at every scale whose batch does not divide the set
    configs = seed_group(**changes)
    together = stacked.train_group(configs, data)
    for config, member in zip(configs, together):
        alone = train.train(config, data)
        for key in ("config", "data", "initialisation", "steps", "optimiser_steps", "parameters", "key"):
            assert getattr(member, key) == getattr(alone, key), key
        for key in ("step_loss", "epoch_loss", "epoch_l1"):
            assert getattr(member, key) == pytest.approx(getattr(alone, key), rel=1e-4, abs=1e-5), key
        assert member.numerics.keys() - {"stacked"} == alone.numerics.keys()
        assert torch.equal(member.initial_weight_sample, alone.initial_weight_sample)
        assert member.share_below_threshold == pytest.approx(alone.share_below_threshold, abs=1e-3)
        assert member.test_accuracy == pytest.approx(alone.test_accuracy, abs=1 / 16)
        assert "seeds at once" in train.precision_summary(member)


def test_each_member_is_cached_under_its_own_key_and_train_reads_it(tmp_path, monkeypatch):
    data = tiny_data(n=32)
    configs = seed_group((3, 4), epochs=1)
    first = stacked.train_group(configs, data, tmp_path)
    assert [r.from_cache for r in first] == [False, False]
    monkeypatch.setattr(train, "_run", lambda *a, **k: pytest.fail("train retrained a run the group cached"))
    for config, result in zip(configs, first):
        cached = train.train(config, data, tmp_path)
        assert cached.from_cache and cached.key == train.cache_key(config, data)
        assert cached.step_loss == result.step_loss


def test_only_uncached_members_are_trained(tmp_path, monkeypatch):
    data = tiny_data(n=32)
    configs = seed_group((0, 1, 2), epochs=1)
    train.train(configs[1], data, tmp_path)
    trained = []
    real = stacked._run_stacked
    monkeypatch.setattr(stacked, "_run_stacked", lambda c, *a: trained.append([x.seed for x in c]) or real(c, *a))
    results = stacked.train_group(configs, data, tmp_path)
    assert trained == [[0, 2]]
    assert [r.from_cache for r in results] == [False, True, False]


@pytest.mark.parametrize("configs, complaint", [
    ([], "non-empty"),
    (seed_group((0, 0)), "distinct seeds"),
    ([*seed_group((0,)), *seed_group((1,), lr=0.1)], "seed only"),
    ([train.TrainConfig(model="VGG16", optimiser="sgd", lr=0.1, epochs=1, batch_size=4, seed=0, width_divisor=32)],
     "cfg-VGG"),
])
def test_unstackable_groups_are_rejected_naming_configs(configs, complaint):
    with pytest.raises(ValueError, match=f"configs.*{complaint}|{complaint}.*configs|configs must"):
        stacked.check_stackable(configs)
