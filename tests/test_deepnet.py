"""gdcut.deepnet: the C5/C6 and L18-L20 rules on planted runs, and the penalty-only horizon.

Tier 1: the penalty-only arrival step of SGD against its closed form (v2 Prop. B.2).
Tier 2: planted results whose decision is known, for every decision of every rule.
"""
from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gdcut import closed_forms, deepnet, optimisers, rules, scales, train


def planted_result(config: train.TrainConfig | None = None, **fields) -> train.TrainResult:
    """A ``TrainResult`` with ``fields`` set and placeholders for the rest (what a rule does not read)."""
    placeholders = dict(
        config=config or train.TrainConfig(model="VGG11", optimiser="adam", lr=3e-4, epochs=2, batch_size=32, seed=0),
        data="planted", initialisation="planted", steps=0, optimiser_steps=0, step_loss=(), epoch_loss=(),
        epoch_l1=(), epoch_share=(), epoch_seconds=(), share_below_threshold=0.0, parameters=0, test_accuracy=0.0,
        initial_weight_sample=torch.zeros(0), numerics={})
    return train.TrainResult(**{**placeholders, **fields})


def planted_run(auc: float, final: float, steps: int = 100) -> train.TrainResult:
    """A C5/C6 run whose loss curve has mean ``auc`` and ends at ``final``."""
    return planted_result(step_loss=(auc,) * steps, epoch_loss=(auc, final), steps=steps)


def planted_pairs(relu_aucs, gelu_aucs, final=0.5) -> dict:
    return {"relu": [planted_run(a, final) for a in relu_aucs], "gelu": [planted_run(a, final) for a in gelu_aucs]}


SEED_NOISE = [0.0, 0.01, -0.01, 0.02, -0.02]


def test_c6_equal_curves_are_indistinguishable():
    runs = planted_pairs([1.0 + e for e in SEED_NOISE], [1.0 + e for e in SEED_NOISE])
    assert deepnet.c6_ruling(runs).decision == "supports"


def test_c6_a_clear_gap_refutes_indistinguishable():
    runs = planted_pairs([1.2 + e / 10 for e in SEED_NOISE], [1.0] * 5)
    assert deepnet.c6_ruling(runs).decision == "refutes"


SWEEP = (("momentum", 0.01), ("momentum", 0.03), ("adam", 3e-4), ("adam", 1e-3))


def planted_sweep(decisions) -> dict:
    """Per-setting rulings of SWEEP with the given decisions (a refutation: a clear gap; support: equal curves)."""
    by_decision = {"refutes": planted_pairs([1.2 + e / 10 for e in SEED_NOISE], [1.0] * 5),
                   "supports": planted_pairs([1.0 + e for e in SEED_NOISE], [1.0 + e for e in SEED_NOISE]),
                   # trained, but too little power: a gap of 3% in seed noise three times GELU's
                   "inconclusive": planted_pairs([1.03 + 3 * e for e in SEED_NOISE], [1.0 + e for e in SEED_NOISE]),
                   "untrained": planted_pairs([1.0 + e for e in SEED_NOISE], [1.0 + e for e in SEED_NOISE],
                                              final=2.3)}  # nothing left the chance plateau
    rulings = {setting: deepnet.c6_ruling(by_decision[d]) for setting, d in zip(SWEEP, decisions)}
    assert [r.decision for r in rulings.values()] == [d.replace("untrained", "inconclusive") for d in decisions]
    return rulings


@pytest.mark.parametrize("decisions, expected", [
    (("supports",) * 4, "supports"), (("refutes",) * 4, "refutes"),
    (("supports", "supports", "supports", "refutes"), "supports"),
    (("refutes", "refutes", "refutes", "inconclusive"), "refutes"),
    (("supports", "supports", "refutes", "refutes"), "inconclusive"),
    (("supports", "inconclusive", "inconclusive", "refutes"), "inconclusive")])
def test_the_sweep_decides_by_most_settings_the_same_rule_both_ways(decisions, expected):
    ruling = deepnet.sweep_ruling(planted_sweep(decisions), deepnet.C6_RULE, deepnet.GAP)
    assert ruling.decision == expected and ruling.n == 4
    assert ruling.values["supports"] == decisions.count("supports")
    if expected == "inconclusive":
        assert ruling.reason.startswith("the sweep splits")


@pytest.mark.parametrize("decision", ["supports", "refutes"])
def test_one_unswept_setting_decides_nothing_in_either_direction(decision):
    """Symmetric evidence (issue 18): a setting too weak to refute the claim is too weak to support it."""
    rulings = planted_sweep((decision,))
    ruling = deepnet.sweep_ruling(rulings, deepnet.C6_RULE, deepnet.GAP)
    assert ruling.decision == "inconclusive" and ruling.values[decision] == 1
    assert "does not cover" in ruling.reason and "optimiser" in ruling.reason and "learning rate" in ruling.reason


def test_a_sweep_of_one_rate_per_optimiser_names_the_learning_rate():
    assert deepnet.unswept([("momentum", 0.01), ("adam", 3e-4)]) == [
        "learning rate (one value for Adam, SGD with momentum 0.9; the rule needs 2 each)"]
    assert deepnet.unswept(SWEEP) == []
    assert deepnet.unswept(scales.convergence("cpu").settings) == []
    assert deepnet.unswept(scales.convergence("smoke").settings) != []


@pytest.mark.parametrize("decision", ["supports", "refutes"])
def test_settings_whose_nets_did_not_train_cover_nothing_in_either_direction(decision):
    """Both momentum settings stuck at chance leave a sweep of one optimiser: it decides nothing, either way."""
    ruling = deepnet.sweep_ruling(planted_sweep(("untrained", "untrained", decision, decision)), deepnet.C6_RULE,
                                  deepnet.GAP)
    assert ruling.decision == "inconclusive" and ruling.values[decision] == 2
    assert "whose nets trained" in ruling.reason and "optimiser (only Adam" in ruling.reason
    everything_stuck = deepnet.sweep_ruling(planted_sweep(("untrained",) * 4), deepnet.C6_RULE, deepnet.GAP)
    assert everything_stuck.decision == "inconclusive" and "optimiser (only none" in everything_stuck.reason


def test_sweep_ruling_rejects_what_is_not_a_ruling():
    with pytest.raises(ValueError, match="per_setting"):
        deepnet.sweep_ruling({}, deepnet.C6_RULE, deepnet.GAP)
    with pytest.raises(ValueError, match="per_setting"):
        deepnet.sweep_ruling({SWEEP[0]: "supports"}, deepnet.C6_RULE, deepnet.GAP)


def test_indistinguishable_is_judged_against_the_seed_to_seed_spread():
    """A gap smaller than what reseeding moves is indistinguishable; the same gap with quiet seeds is not."""
    noisy = [1.0 + 5 * e for e in SEED_NOISE]  # ln AUC spreads by about 0.08 across seeds
    runs = planted_pairs([a * 1.03 for a in noisy], noisy)  # a constant 3% gap in every seed
    spread = deepnet.seed_spread(runs)
    assert spread == pytest.approx(float(np.std(np.log(noisy), ddof=1)), rel=1e-9)
    assert deepnet.c6_ruling(runs).decision == "supports"
    quiet = [1.0 + e / 10 for e in SEED_NOISE]
    jittered = [g * (1.03 + e / 5) for g, e in zip(quiet, SEED_NOISE)]
    assert deepnet.c6_ruling(planted_pairs(jittered, quiet)).decision == "refutes"
    assert deepnet.c6_ruling(runs).values["seed spread"] == pytest.approx(spread)


def test_indistinguishable_rejects_a_spread_that_is_not_positive():
    for spread in (0.0, -1.0, float("nan"), "wide"):
        with pytest.raises(ValueError, match="spread"):
            deepnet.indistinguishable_ruling([0.0] * 5, spread, deepnet.C6_RULE, deepnet.GAP)
    with pytest.raises(ValueError, match="two seeds"):
        deepnet.seed_spread(planted_pairs([1.0], [1.0]))


def test_a_cell_where_no_run_of_one_activation_trained_is_inconclusive_whatever_the_gaps():
    runs = planted_pairs([2.3] * 5, [1.0 + e for e in SEED_NOISE])
    runs["relu"] = [planted_run(2.3, final=2.3) for _ in range(5)]
    for ruling in (deepnet.c5_ruling(runs), deepnet.c6_ruling(runs)):
        assert ruling.decision == "inconclusive" and "did not train" in ruling.reason


def test_a_single_stuck_run_stays_in_the_data_and_is_named():
    runs = planted_pairs([1.2 + e / 10 for e in SEED_NOISE], [1.0] * 5)
    runs["relu"][3] = planted_run(2.3, final=2.3)  # a ReLU run that never trained: slower, not void
    ruling = deepnet.c5_ruling(runs)
    assert ruling.decision == "supports" and "stuck" in ruling.values["note"]


def test_a_constant_relative_advantage_does_not_widen_with_depth():
    # GELU 6.5% faster at both depths; the deeper net's larger loss area must not make the gap "widen".
    shallow = planted_pairs([1.07 * (1 + e / 10) for e in SEED_NOISE], [1.0 * (1 + e / 10) for e in SEED_NOISE])
    deep = planted_pairs([1.63 * 1.065 * (1 + e / 10) for e in SEED_NOISE], [1.63 * (1 + e / 10) for e in SEED_NOISE])
    assert deepnet.c5_widening_ruling(deep, shallow).decision != "supports"


def test_c5_decides_both_ways_and_abstains_on_noise():
    assert deepnet.c5_ruling(planted_pairs([1.2 + e / 10 for e in SEED_NOISE], [1.0] * 5)).decision == "supports"
    assert deepnet.c5_ruling(planted_pairs([1.0 + e / 10 for e in SEED_NOISE], [1.0] * 5)).decision == "refutes"
    noisy = planted_pairs([1.3, 0.8, 1.25, 0.7, 1.2], [1.0] * 5)
    assert deepnet.c5_ruling(noisy).decision == "inconclusive"


def test_c5_widening_compares_the_gaps_of_two_depths():
    shallow = planted_pairs([1.02 + e / 10 for e in SEED_NOISE], [1.0] * 5)
    deep = planted_pairs([1.5 + e / 10 for e in SEED_NOISE], [1.0] * 5)
    assert deepnet.c5_widening_ruling(deep, shallow).decision == "supports"
    assert deepnet.c5_widening_ruling(shallow, shallow).decision == "refutes"


# --------------------------------------------------------------------------- penalty-only runs
def penalty_only_share(w0, optimiser, lr, lambda1, steps):
    final, _ = closed_forms.penalty_only_run(w0, optimiser, lr, lambda1, steps)
    return float((final.abs() < train.PAPER_THRESHOLD).float().mean())


def test_a_constant_rate_run_cut_after_its_first_epochs_is_the_shorter_run():
    from tests.test_train import tiny_config, tiny_data

    data = tiny_data()
    long, short = (train.train(tiny_config(epochs=e, lambda1=0.0, optimiser="momentum"), data) for e in (4, 2))
    cut = deepnet.first_epochs(long, 2)
    assert cut.step_loss == short.step_loss and cut.epoch_loss == short.epoch_loss
    assert cut.epoch_l1 == short.epoch_l1 and cut.share_below_threshold == short.share_below_threshold
    assert cut.steps == short.steps and cut.config == short.config and deepnet.first_epochs(long, 4) is long
    with pytest.raises(ValueError, match="epochs"):
        deepnet.first_epochs(long, 5)
    cells = deepnet.lengths({"relu": [long], "gelu": [long]})
    assert {label: runs["relu"][0].steps for label, runs in cells.items()} == {
        deepnet.NATURAL_LENGTH: long.steps, f"its first {short.steps} steps": short.steps}
    assert list(deepnet.lengths({"relu": [cut1 := deepnet.first_epochs(long, 1)], "gelu": [cut1]})) == [
        deepnet.NATURAL_LENGTH]  # one epoch has no shorter length


def ruled(decision: str, **values) -> rules.Ruling:
    return rules.Ruling(decision, "planted rule", "d", "planted threshold", 5, values,
                        "" if decision != "inconclusive" else "planted")


def test_a_setting_decides_only_where_its_training_lengths_agree_either_way():
    half = "its first 512 steps"
    for decision in ("supports", "refutes"):
        agreed = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled(decision, mean=0.1), half: ruled(decision)})
        assert agreed.decision == decision and agreed.values[deepnet.LENGTH_DECISION + half] == decision
        split = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled(decision), half: ruled("inconclusive")})
        assert split.decision == "inconclusive" and "the training lengths disagree" in split.reason
        alone = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled(decision)})
        assert alone.decision == "inconclusive" and "one training length" in alone.reason
    untrained = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled("inconclusive", untrained="at chance loss"),
                                        half: ruled("inconclusive")})
    assert deepnet.UNTRAINED in untrained.values  # a setting whose nets did not train still covers nothing
    with pytest.raises(ValueError, match="by_length"):
        deepnet.lengths_ruling({half: ruled("supports")})


def test_a_setting_that_decides_by_less_than_a_tenth_of_its_margin_leaves_a_caveat_with_its_numbers():
    half = "its first 512 steps"
    narrow = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled("refutes", margin=0.0195, clearance=0.4),
                                     half: ruled("refutes", margin=0.02004, clearance=0.04)})
    assert narrow.values[rules.CLEARANCE] == 0.04  # the narrower length decides how narrow, against its own margin
    assert narrow.values[deepnet.NARROWEST_MARGIN] == 0.02004 and narrow.values[deepnet.NARROWEST_LENGTH] == half
    wide = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled("supports", margin=0.02, clearance=0.5),
                                   half: ruled("supports", margin=0.02, clearance=0.1)})
    split = deepnet.lengths_ruling({deepnet.NATURAL_LENGTH: ruled("refutes", margin=0.02, clearance=0.01),
                                    half: ruled("inconclusive", margin=0.02)})
    recorded = []
    evidence = SimpleNamespace(table=lambda *a, **k: None, swept=lambda *a, **k: None, decision=lambda *a, **k: None,
                               caveat=recorded.append)
    deepnet.record_sweep_decision(evidence, "VGG11 with batch norm",
                                  {("momentum", 0.01): narrow, ("adam", 3e-4): wide, ("adam", 1e-3): split},
                                  deepnet.C6_RULE, ["Fashion-MNIST"])
    assert recorded == ["VGG11 with batch norm, SGD with momentum 0.9 lr=0.01: refutes by a narrow 0.0008 past its "
                        "edge at its first 512 steps, 4% of the margin 0.02 there; a decision this close can move "
                        "with another machine's floating-point rounding, and with it the count of settings that "
                        "decide the sweep"]


def test_the_data_sets_a_sweep_swept_are_read_from_its_runs():
    def run(data: str):
        return SimpleNamespace(data=f"{data}:train=32:test=16:sha256=0")
    sweep = {("adam", 3e-4): {"relu": [run("fashion-mnist")], "gelu": [run("fashion-mnist")]}}
    other = {("adam", 3e-4): {"relu": [run("cifar10")], "gelu": [run("planted")]}}
    assert deepnet.data_sets(sweep) == ["Fashion-MNIST"]
    assert deepnet.data_sets(sweep, other) == ["Fashion-MNIST", "CIFAR-10", "planted"]


@pytest.mark.parametrize("steps", [0, 1, 7, 300, 1700])
def test_penalty_only_sgd_share_matches_the_closed_form(steps):
    # tier 1: torch.optim.SGD on the penalty against v2 Prop. B.1-B.2 in closed form (gdcut.closed_forms)
    w0 = (torch.rand(4000, generator=torch.Generator().manual_seed(1)) - 0.5) * 0.02
    closed = np.abs(closed_forms.ndgm_iterate(w0.double().numpy(), 0.003, 0.002, steps)) < train.PAPER_THRESHOLD
    simulated = penalty_only_share(w0, "sgd", 0.003, 0.002, steps)
    # float32 rounding moves a few entries near the threshold
    assert simulated == pytest.approx(float(closed.mean()), abs=0.003)


def test_penalty_only_share_follows_the_oscillation_band():
    w0 = (torch.rand(5000, generator=torch.Generator().manual_seed(2)) - 0.5) * 0.01
    # SGD, lr*lambda1 = 6e-6 < 1e-5 and enough steps for every weight to cross: all below the threshold
    assert penalty_only_share(w0, "sgd", 0.003, 0.002, steps=1000) == 1.0
    # SGD, lr*lambda1 = 6e-3: the 2-cycle spans (-6e-3, 6e-3), about 1e-5/6e-3 of it is below 1e-5
    assert penalty_only_share(w0, "sgd", 0.003, 2.0, steps=50) < 0.02
    # RMSProp on the penalty does not depend on lambda1 (v2 Prop. B.5): the same share for both
    small = penalty_only_share(w0, "rmsprop", 0.003, 0.002, steps=300)
    large = penalty_only_share(w0, "rmsprop", 0.003, 2.0, steps=300)
    assert small == pytest.approx(large, abs=0.002)


@pytest.mark.parametrize("optimiser", optimisers.OPTIMISERS)
def test_penalty_only_weights_equal_autograd_of_the_penalty(optimiser):
    # the shortcut grad = lambda1 * sign(w) against autograd of lambda1 * sum|w| through torch.optim, with exact zeros
    w0 = (torch.rand(300, generator=torch.Generator().manual_seed(4)) - 0.5) * 0.01
    w0[:7] = 0.0
    w = w0.clone().requires_grad_(True)
    opt = optimisers.make_optimiser(optimiser, [w], 0.003)
    for _ in range(40):
        opt.zero_grad()
        (0.3 * w.abs().sum()).backward()
        opt.step()
    assert torch.equal(closed_forms.penalty_only_run(w0, optimiser, 0.003, 0.3, 40)[0], w.detach())


@pytest.mark.parametrize("lambda1", [0.002, 2.0])
def test_sgd_arrival_is_the_closed_form_entry_step(lambda1):
    w0 = torch.empty(2000).uniform_(-0.05, 0.05, generator=torch.Generator().manual_seed(0))
    steps = 3_000
    _, arrival = closed_forms.penalty_only_run(w0, "sgd", 0.003, lambda1, steps)
    n_k = closed_forms.band_entry_step(w0.double().numpy(), 0.003, lambda1)
    reached = arrival.numpy() <= steps
    # SGD moves by h = αλ1 per step towards 0: the sign flips on the step after |w| < h (or lands on 0).
    assert np.all(np.abs(arrival.numpy()[reached] - (n_k[reached] + 1)) <= 1)
    assert np.all(n_k[~reached] >= steps - 1)


def test_app_c_procedure_carries_the_optimiser_state_into_the_second_penalty():
    w0 = torch.linspace(-0.02, 0.02, 101)
    fresh, _ = closed_forms.penalty_only_run(w0, "adam", 0.003, 0.002, 30)
    carried, _ = closed_forms.penalty_only_run(w0, "adam", 0.003, 0.002, 30, before=(2.0, 30))
    assert not torch.equal(fresh, carried)
    sgd_fresh, _ = closed_forms.penalty_only_run(w0, "sgd", 0.003, 0.002, 30)
    sgd_carried, _ = closed_forms.penalty_only_run(w0, "sgd", 0.003, 0.002, 30, before=(2.0, 30))
    assert torch.equal(sgd_fresh, sgd_carried)  # SGD keeps no state


PLANTED_EPOCHS = 10


def l1_run(lambda1: float, steps: int, final_l1: float, share: float = 0.5, optimiser: str = "sgd",
           width: float = 0.01, batch_size: int = 512, l1_curve=None, share_curve=None) -> train.TrainResult:
    """A planted L1 run of ``PLANTED_EPOCHS`` epochs: settled at ``final_l1`` and ``share`` unless curves are given
    (a curve names its last epochs; the epochs before them repeat its first value)."""
    sample = torch.empty(1000).uniform_(-width, width, generator=torch.Generator().manual_seed(1))
    l1_curve = l1_curve or [final_l1]
    share_curve = share_curve or [share]
    l1_curve = [l1_curve[0]] * (PLANTED_EPOCHS - len(l1_curve)) + list(l1_curve)
    share_curve = [share_curve[0]] * (PLANTED_EPOCHS - len(share_curve)) + list(share_curve)
    config = train.TrainConfig(model="VGG16", optimiser=optimiser, lr=0.003, lambda1=lambda1, epochs=PLANTED_EPOCHS,
                               batch_size=batch_size, seed=42)
    return planted_result(config, key=f"planted-{optimiser}-{lambda1}-{steps}-{l1_curve}-{share_curve}-{width}-"
                                      f"{batch_size}",
                          initial_weight_sample=sample, steps=steps, parameters=10_000, epoch_l1=tuple(l1_curve),
                          epoch_share=tuple(share_curve), share_below_threshold=share_curve[-1])


def test_a_run_shorter_than_the_horizon_is_inconclusive_for_every_optimiser():
    for optimiser in ("sgd", "rmsprop", "adam"):
        # weights up to 1 need hundreds of steps of size ~lr = 0.003 to reach 0, whatever the optimiser
        small = l1_run(0.002, 5, 10.0, optimiser=optimiser, width=1.0)
        large = l1_run(2.0, 5, 50.0, optimiser=optimiser, width=1.0)
        ruling = deepnet.l1_order_ruling(small, large)
        assert ruling.decision == "inconclusive" and "horizon" in ruling.reason, optimiser
        assert deepnet.share_pattern_ruling(small, large, 99.89, 0.18).decision == "inconclusive"


# SGD at λ1 = 0.002 needs |w0|/(αλ1) ≈ 1700 steps for |w0| ≤ 0.01: at 10,000 steps over 10 epochs the settling
# window (the last 3 epochs) starts at step 7,000, and at half the length (5 epochs) at step 2,000.
LONG = 10_000


def test_after_the_horizon_the_l1_order_decides():
    small, large = l1_run(0.002, LONG, 10.0), l1_run(2.0, LONG, 50.0)
    assert deepnet.l1_order_ruling(small, large).decision == "supports"
    assert deepnet.l1_order_ruling(small, l1_run(2.0, LONG, 5.0)).decision == "refutes"
    assert deepnet.l1_order_ruling(small, l1_run(2.0, LONG, 10.5)).decision == "inconclusive"


def test_a_settling_window_that_starts_before_the_horizon_is_inconclusive():
    # 1800 steps pass the ≈1700-step horizon, but the last 3 of 10 epochs start at step 1260
    ruling = deepnet.l1_order_ruling(l1_run(0.002, 1_800, 10.0), l1_run(2.0, 1_800, 50.0))
    assert ruling.decision == "inconclusive" and "before the horizon" in ruling.reason
    assert deepnet.UNSETTLED not in ruling.values  # the horizon-length run was too short: not a settling question


def test_without_a_stationarity_certificate_the_pair_must_run_on_either_way():
    # rule 4: at half the length (3,000 steps: window from step 1,200) the runs cannot speak, whatever r says
    for large in (50.0, 5.0):
        ruling = deepnet.l1_order_ruling(l1_run(0.002, 6_000, 10.0), l1_run(2.0, 6_000, large))
        assert ruling.decision == "inconclusive" and "must run on to twice their length" in ruling.reason
        assert ruling.values[deepnet.UNSETTLED]
    # the statistic read otherwise one doubling earlier: r 0.8 at half length, 5 at the full length
    moved = l1_run(2.0, LONG, 50.0, l1_curve=[8.0] * 5 + [50.0] * 5)
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), moved)
    assert ruling.decision == "inconclusive" and "moved between half these lengths" in ruling.reason


def test_a_statistic_moving_toward_its_edge_when_the_runs_double_is_not_stationary_either_way():
    # a large-λ1 share falling from 76% to 56% (paper 1.21%): on the wrong side of 5% at both lengths, but heading
    # for it, so the red card waits; the same motion toward the edge holds back a green one
    falling = l1_run(2.0, LONG, 1.0, share_curve=[0.76] * 5 + [0.56] * 5)
    ruling = deepnet.share_pattern_ruling(l1_run(0.002, LONG, 1.0, 0.0001), falling, 0.09, 1.21)
    assert ruling.decision == "inconclusive" and "moving toward its edge: difference, large λ1 share" in ruling.reason
    shrinking = l1_run(2.0, LONG, 50.0, l1_curve=[50.0] * 5 + [20.0] * 5)  # r from 5 to 2: toward 1.1
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), shrinking)
    assert ruling.decision == "inconclusive" and "moving toward its edge: r" in ruling.reason
    growing = l1_run(2.0, LONG, 50.0, l1_curve=[20.0] * 5 + [50.0] * 5)  # away from the edge: certified
    assert deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), growing).decision == "supports"


def test_the_settling_window_grows_with_the_horizon():
    assert scales.settle_epochs(0, 100) == scales.SETTLE_EPOCHS
    assert scales.settle_epochs(10_000, 100) == math.ceil(scales.SETTLE_FRACTION * 100)
    with pytest.raises(ValueError, match="per_epoch"):
        scales.settle_epochs(10, 0)


def share_rule(small_share, large_share, paper=(99.89, 0.18), small_curve=None):
    return deepnet.share_pattern_ruling(l1_run(0.002, LONG, 1.0, small_share, share_curve=small_curve),
                                        l1_run(2.0, LONG, 1.0, large_share), *paper)


def test_share_pattern_needs_the_papers_order_size_and_side_of_five_percent():
    assert share_rule(0.98, 0.002).decision == "supports"
    assert share_rule(0.002, 0.98).decision == "refutes"       # reversed
    assert share_rule(0.40, 0.002).decision == "refutes"       # less than half the paper's difference
    assert share_rule(0.03, 0.02, paper=(3.31, 2.28)).decision == "supports"
    assert share_rule(0.30, 0.02, paper=(3.31, 2.28)).decision == "refutes"  # wrong side of 5%


def test_a_refuting_share_row_names_the_part_that_fails_beside_the_papers_number():
    # Table 2's RMSProp row (0.09% vs 1.21%) against 0.01% vs 74.51%: the sign, the size and the λ1 = 0.002 share
    # agree; only the λ1 = 2 share is on the other side of 5%
    ruling = share_rule(0.0001, 0.7451, paper=(0.09, 1.21))
    assert ruling.decision == "refutes"
    assert ruling.reason == ("fails on one part, the λ1 = 2 share: 74.51% is above the suite's 5% edge, the "
                             "paper's 1.21% below it, while the difference and the λ1 = 0.002 share agree by the rule")
    assert share_rule(0.98, 0.002, paper=(0.09, 1.21)).reason == (
        "fails on two parts, the difference: +97.8 points has the opposite sign to the paper's -1.12, and the "
        "λ1 = 0.002 share: 98.00% is above the suite's 5% edge, the paper's 0.09% below it, while the λ1 = 2 share "
        "agrees by the rule")
    assert "difference ≤ -0.56 points (half the paper's -1.12" in share_rule(0.0001, 0.7451, paper=(0.09, 1.21)).threshold
    assert share_rule(0.98, 0.40, paper=(0.09, 1.21)).reason.startswith("fails on all three parts, the difference")
    assert "+39.8 points falls short of the edge +49.85, half the paper's +99.71" in share_rule(0.40, 0.002).reason
    assert share_rule(0.98, 0.002).reason == ""  # a supporting row has nothing to single out


def test_a_share_pattern_near_an_edge_decides_nothing_either_way():
    # one run per λ1: within 10% of half the paper's difference, or of 5%, is noise
    assert share_rule(0.50, 0.002).decision == "inconclusive"
    assert share_rule(0.051, 0.02, paper=(3.31, 2.28)).decision == "inconclusive"


def test_an_unsettled_statistic_is_inconclusive_not_a_counterexample():
    small = l1_run(0.002, LONG, 10.0)
    straddling = l1_run(2.0, LONG, 12.0, l1_curve=[8.0, 14.0, 12.0])  # r from 0.8 to 1.4 over the window
    ruling = deepnet.l1_order_ruling(small, straddling)
    assert ruling.decision == "inconclusive" and "r reaches above and below" in ruling.reason
    assert ruling.values[deepnet.UNSETTLED]
    differing = [l1_run(2.0, LONG, v, optimiser=o, l1_curve=c) for v, o, c in
                 ((1.0, "sgd", None), (1.5, "rmsprop", None), (2.5, "adam", [1.8, 2.6, 2.5]))]
    ruling = deepnet.optimisers_differ_ruling(differing)
    assert ruling.decision == "inconclusive" and "ratio reaches above and below" in ruling.reason
    # a share swinging from 40% to 60% against the paper's 99.7% vs 0.01%: both sides of half the difference
    ruling = share_rule(0.5, 0.0, paper=(99.7, 0.01), small_curve=[0.4, 0.6, 0.5])
    assert ruling.decision == "inconclusive" and "difference reaches above and below" in ruling.reason
    jumpy = l1_run(2.0, LONG, 1.0, share_curve=[0.001, 0.60, 0.002])  # a large-λ1 share crossing 5%
    ruling = deepnet.share_pattern_ruling(l1_run(0.002, LONG, 1.0, 0.98), jumpy, 99.89, 0.18)
    assert ruling.decision == "inconclusive" and "large λ1 share reaches above and below" in ruling.reason


def test_a_statistic_that_reaches_the_noise_band_from_one_side_is_inconclusive_and_settled():
    # r from 0.85 to 0.92 over the window (band from 1/1.1 ≈ 0.909): within noise of its edge at one epoch, so it
    # refutes nothing; and running on cannot settle noise, so the pair does not run on for it
    noisy = l1_run(2.0, LONG, 8.9, l1_curve=[8.9] + [8.5, 9.2, 8.9] * 3)  # the same noise at half the length
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), noisy)
    assert ruling.decision == "inconclusive" and "r within the 10% noise band" in ruling.reason
    assert deepnet.UNSETTLED not in ruling.values


def test_a_trend_inside_the_noise_band_runs_on_either_way():
    # r from 1.00 at half the length to 1.08 (the band is 1/1.1 to 1.1): motion, not noise, so it runs on rather
    # than stop at "inconclusive"; from 1.00 to 0.93 the same, the other way
    for final in (10.8, 9.3):
        trending = l1_run(2.0, LONG, final, l1_curve=[10.0] * 5 + [final] * 5)
        ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), trending)
        assert ruling.decision == "inconclusive" and "moving inside the noise band: r" in ruling.reason, final
        assert ruling.values[deepnet.MOVING] == "SGD λ1=2"


def test_a_moving_l1_norm_decides_either_way_when_the_ratio_stays_on_one_side():
    # the certificate reads the statistic the rule decides on: r from any epoch of the windows, not each L1 norm
    small = l1_run(0.002, LONG, 10.0)
    rising = l1_run(2.0, LONG, 50.0, l1_curve=[30.0, 60.0, 50.0])
    falling = l1_run(2.0, LONG, 4.0, l1_curve=[4.0, 5.0, 3.0])
    assert deepnet.l1_order_ruling(small, rising).decision == "supports"
    assert deepnet.l1_order_ruling(small, falling).decision == "refutes"


def test_settled_runs_on_until_the_ruling_is_certified_up_to_the_cap(monkeypatch):
    small, large = l1_run(0.002, 6_000, 10.0), l1_run(2.0, 6_000, 50.0)  # at half length the small run cannot speak
    longer = {small.key: l1_run(0.002, 12_000, 10.0)}
    asked = []
    monkeypatch.setattr(deepnet, "lengthened", lambda settings, data, run: asked.append(run) or longer.get(run.key))
    settings = SimpleNamespace(scale="cpu")
    runs, ruling = deepnet.settled(settings, None, {0.002: small, 2.0: large}, order)
    assert asked == [small] and runs == {0.002: longer[small.key], 2.0: large}
    assert ruling == order(runs) and ruling.decision == "supports"
    runs, ruling = deepnet.settled(SimpleNamespace(scale="smoke"), None, {0.002: small, 2.0: large}, order)
    assert runs == {0.002: small, 2.0: large} and ruling.reason.endswith(
        "running on stops there: the smoke scale's runs do not run on (its run lengths are fixed)")
    asked.clear()  # the run that moved would pass the cap at twice its length: the pair stays, and no run trains
    cap = scales.run_step_cap(scales.l1("cpu"), small.config)  # planted runs: the paper's batch of 512
    steps = cap // 2 + 500
    capped = l1_run(2.0, steps, 50.0, l1_curve=[8.0] * 5 + [50.0] * 5)
    pair = {0.002: l1_run(0.002, steps, 10.0), 2.0: capped}
    runs, ruling = deepnet.settled(settings, None, pair, order)
    assert runs == pair and asked == [] and ruling.decision == "inconclusive"
    # the card says why the runs stopped: the cap, with the run and its length
    assert ruling.reason.endswith(f"running on stops there: SGD λ1=2 at twice its {steps:,} steps would pass the "
                                  f"cpu scale's cap of {cap:,} steps")


def test_an_app_c_successor_of_a_source_whose_second_moment_had_not_settled_cannot_speak():
    # App. C's λ1 = 2 run ran 200 epochs: the state it hands on has a settled second moment; a 1,000-step Adam run's
    # has not (5 time constants of β2 = 0.999 are 5,000 steps), so its successor starts from another state
    # (planted runs take 1,000 steps an epoch)
    for source_steps, speaks in ((1_000, False), (scales.saturation_steps("adam"), True)):
        source = l1_run(2.0, LONG, 50.0, optimiser="adam")
        source = dataclasses.replace(source, config=dataclasses.replace(
            source.config, epochs=source_steps // (LONG // PLANTED_EPOCHS)))
        successor = l1_run(0.002, LONG, 10.0, optimiser="adam")
        successor = dataclasses.replace(successor, config=dataclasses.replace(
            successor.config, optimiser_state_from=source.config))
        problems = deepnet._premise_problems([successor], None)
        assert any("before its second moment settled" in p for p in problems) != speaks, source_steps
    assert scales.saturation_steps("rmsprop") == 500 and scales.saturation_steps("sgd") == 0


def test_a_crossing_within_the_windows_runs_on_the_run_whose_window_moves():
    # the λ1 = 0.002 run's L1 norm falls through its window (r from 0.8 to 1.25): holding it still removes the
    # crossing, holding the flat λ1 = 2 run still does not, so only the falling run runs on
    falling = l1_run(0.002, LONG, 10.0, l1_curve=[12.5, 10.0, 8.0])
    ruling = deepnet.l1_order_ruling(falling, l1_run(2.0, LONG, 10.0))
    assert "r reaches above and below" in ruling.reason and ruling.values[deepnet.MOVING] == "SGD λ1=0.002"


def test_a_miniature_says_how_it_differs_from_the_papers_setting():
    run = l1_run(2.0, LONG, 50.0)  # planted: full width, batch 512, the initialisation it says it got
    fashion, cifar = SimpleNamespace(name="fashion-mnist"), SimpleNamespace(name="cifar10")  # gdcut.data's names
    paper_setting = dataclasses.replace(run, initialisation="pretrained (hub cache)")
    assert deepnet.miniature_gaps(paper_setting, cifar) == []
    narrowed = dataclasses.replace(run, config=dataclasses.replace(run.config, width_divisor=16, batch_size=16),
                                   initialisation="random init (VGG16 narrowed 16x: no pretrained weights exist for it)")
    gaps = deepnet.miniature_gaps(narrowed, fashion)
    assert [g.split(" ")[0] for g in gaps] == ["VGG16", "random", "data", "SGD"] and "batch 16" in gaps[3]
    assert "data Fashion-MNIST, not CIFAR-10" in gaps


def test_an_l1_run_outside_the_papers_setting_fails_the_premise_of_every_cell(monkeypatch):
    # L18-L20 report the paper's own experiment: a miniature's rulings are shown and count for nothing, either way
    monkeypatch.setattr(train, "precision_summary", lambda result: "planted numerics")
    premises = []
    evidence = SimpleNamespace(condition=lambda *a: None, note=lambda *a: None, caveat=lambda *a: None,
                               premise=lambda text, holds: premises.append((text, holds)))
    settings = SimpleNamespace(scale="cpu", device="cpu")
    run = l1_run(2.0, LONG, 50.0)
    for result, data, holds in ((dataclasses.replace(run, initialisation="pretrained (hub cache)"),
                                 SimpleNamespace(name="cifar10", source="CIFAR-10"), True),
                                (run, SimpleNamespace(name="fashion-mnist", source="Fashion-MNIST"), False)):
        deepnet.describe_l1_run(evidence, settings, data, SimpleNamespace(why={}), result)
        assert premises[-1][1] is holds and premises[-1][0].startswith(deepnet.PAPER_SETTING)


def test_the_runs_to_run_on_are_those_whose_own_doubling_moved_the_statistic():
    # r 0.8 at half length and 5 at full: the λ1 = 2 run moved, the flat λ1 = 0.002 run did not
    moved = l1_run(2.0, LONG, 50.0, l1_curve=[8.0] * 5 + [50.0] * 5)
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0), moved)
    assert ruling.values[deepnet.MOVING] == "SGD λ1=2"
    # at half the length the λ1 = 0.002 run cannot speak (its window starts before its horizon): it runs on
    ruling = deepnet.l1_order_ruling(l1_run(0.002, 6_000, 10.0), l1_run(2.0, 6_000, 50.0))
    assert ruling.values[deepnet.MOVING] == "SGD λ1=0.002"
    # r crossing 1 within the windows, both runs moving: holding either still leaves it crossing, so both run on
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0, l1_curve=[9.0, 11.0, 10.0]),
                                     l1_run(2.0, LONG, 10.0, l1_curve=[9.0, 11.0, 10.0]))
    assert ruling.values[deepnet.MOVING] == "SGD λ1=0.002; SGD λ1=2"


def order(runs):
    return deepnet.l1_order_ruling(runs[0.002], runs[2.0])


def test_settled_runs_on_only_the_runs_whose_doubling_moved_the_statistic(monkeypatch):
    small, moved = l1_run(0.002, LONG, 10.0), l1_run(2.0, LONG, 50.0, l1_curve=[8.0] * 5 + [50.0] * 5)
    longer = l1_run(2.0, 2 * LONG, 50.0)
    asked = []
    monkeypatch.setattr(deepnet, "lengthened", lambda settings, data, run: asked.append(run) or longer)
    runs, ruling = deepnet.settled(SimpleNamespace(scale="cpu"), None, {0.002: small, 2.0: moved}, order)
    assert asked == [moved] and runs == {0.002: small, 2.0: longer} and ruling.decision == "supports"


def test_a_source_that_runs_on_gives_its_app_c_successor_a_new_start(monkeypatch):
    """v2 App. C: the λ1 = 0.002 run starts from the optimiser state of the λ1 = 2 run, so when the λ1 = 2 run
    moved and runs on, its successor starts again from the longer run's state rather than running on itself."""
    source = l1_run(2.0, LONG, 50.0, optimiser="rmsprop", l1_curve=[8.0] * 5 + [50.0] * 5)
    successor = l1_run(0.002, LONG, 10.0, optimiser="rmsprop")
    successor = dataclasses.replace(successor, config=dataclasses.replace(successor.config,
                                                                          optimiser_state_from=source.config))
    longer_source = l1_run(2.0, 2 * LONG, 50.0, optimiser="rmsprop")
    restarted = dataclasses.replace(successor, key="restarted", config=dataclasses.replace(
        successor.config, optimiser_state_from=longer_source.config))
    trained = []
    monkeypatch.setattr(deepnet, "lengthened", lambda settings, data, run: trained.append(run) or longer_source)
    monkeypatch.setattr(deepnet, "rebased", lambda settings, data, run, new_source: trained.append(
        (run, new_source)) or restarted)
    monkeypatch.setattr(scales, "successor_config", lambda scale, config, new_source: config)
    assert deepnet.l1_order_ruling(successor, source).values[deepnet.MOVING] == "RMSProp λ1=2"
    runs, _ = deepnet.settled(SimpleNamespace(scale="cpu"), None, {0.002: successor, 2.0: source}, order)
    assert trained == [source, (successor, longer_source)] and runs == {0.002: restarted, 2.0: longer_source}
    trained.clear()  # the successor's new start would pass the cap: nothing trains, and the pair stays

    def beyond(scale, config, new_source):
        raise scales.HorizonBeyondCap("step_cap: planted")
    monkeypatch.setattr(scales, "successor_config", beyond)
    runs, ruling = deepnet.settled(SimpleNamespace(scale="cpu"), None, {0.002: successor, 2.0: source}, order)
    assert runs == {0.002: successor, 2.0: source} and trained == []
    assert ruling.reason.endswith("running on stops there: planted")


class RecordedEvidence:
    def __init__(self):
        self.calls = []

    def certificate(self, kind, value, tolerance, holds, detail="", *, cell=""):
        self.calls.append(("certificate", kind, holds, cell))

    def decision(self, cell, ruling, finding=""):
        self.calls.append(("decision", ruling.decision, cell))
        self.finding = finding

    def note(self, text):
        self.calls.append(("note", text))


@pytest.mark.parametrize(("steps", "large", "horizon", "stationary"), [
    (LONG, 50.0, True, True),     # certified: the decision counts
    (6_000, 50.0, True, False),   # the halves cannot speak: no stationarity certificate
    (1_800, 50.0, False, False),  # the window starts before the horizon
])
def test_an_l1_decision_carries_the_certificates_its_rule_read(steps, large, horizon, stationary):
    evidence = RecordedEvidence()
    ruling = deepnet.l1_order_ruling(l1_run(0.002, steps, 10.0), l1_run(2.0, steps, large))
    deepnet.record_l1_decision(evidence, "cell", ruling, "r = 32.7")
    assert evidence.calls == [("certificate", "horizon", horizon, "cell"),
                              ("certificate", "stationarity", stationary, "cell"), ("decision", ruling.decision, "cell")]
    # a certified cell's finding gives the value at half the length too: its side is certified, not its value
    assert evidence.finding == ("L1 norm ratio r = 5 (5 at half the length; paper: r = 32.7)" if stationary else
                                "L1 norm ratio r = 5 (paper: r = 32.7)" if steps == 6_000 else "")


def test_a_fresh_optimiser_per_run_is_a_second_reading_that_never_counts():
    # Fig. 3 and Table 2 came from App. C's code: a refuting fresh-state pair is shown as a note, not a decision
    evidence = RecordedEvidence()
    ruling = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0, optimiser="adam"), l1_run(2.0, LONG, 5.0, optimiser="adam"))
    assert ruling.decision == "refutes"
    deepnet.record_l1_reading(evidence, "v2 Fig. 3, Adam", ruling, "r > 1")
    [(kind, text)] = evidence.calls
    assert kind == "note" and text.startswith("v2 Fig. 3, Adam, second reading with fresh optimiser state per run: "
                                              "refutes, L1 norm ratio r = 0.5") and "does not count" in text


def test_adaptive_optimisers_at_a_batch_other_than_the_papers_cannot_speak():
    for optimiser in ("rmsprop", "adam"):
        small = l1_run(0.002, LONG, 10.0, optimiser=optimiser, batch_size=16)
        large = l1_run(2.0, LONG, 50.0, optimiser=optimiser, batch_size=16)
        ruling = deepnet.l1_order_ruling(small, large)
        assert ruling.decision == "inconclusive" and "batch 16" in ruling.reason
    sgd = deepnet.l1_order_ruling(l1_run(0.002, LONG, 10.0, batch_size=16), l1_run(2.0, LONG, 50.0, batch_size=16))
    assert sgd.decision == "supports"  # SGD's step α·λ1 does not depend on the batch


def test_optimisers_differ_by_a_factor_of_two_or_not():
    runs = [l1_run(2.0, LONG, v, optimiser=o) for v, o in ((1.0, "sgd"), (1.5, "rmsprop"), (2.5, "adam"))]
    assert deepnet.optimisers_differ_ruling(runs).decision == "supports"
    close = [l1_run(2.0, LONG, v, optimiser=o) for v, o in ((1.0, "sgd"), (1.5, "rmsprop"), (1.2, "adam"))]
    assert deepnet.optimisers_differ_ruling(close).decision == "refutes"
    near = [l1_run(2.0, LONG, v, optimiser=o) for v, o in ((1.0, "sgd"), (1.5, "rmsprop"), (2.1, "adam"))]
    assert deepnet.optimisers_differ_ruling(near).decision == "inconclusive"  # within 10% of double


def test_a_nan_loss_is_a_broken_run_not_a_decision():
    runs = planted_pairs([1.0] * 5, [1.0] * 5)
    runs["gelu"][0] = planted_result(step_loss=(math.nan,) * 10, epoch_loss=(0.5,))
    with pytest.raises(ValueError, match="non-finite"):
        deepnet.c6_ruling(runs)
