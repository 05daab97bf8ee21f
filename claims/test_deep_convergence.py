"""C5, C6: ReLU against GELU in the appendix cfg VGGs, without and with batch norm (v1 Fig. 2, App. A;
v2 §3, Fig. 2, App. A.1).

Decision rule, fixed before any run was looked at:

* statistic per run: the area under the training-loss curve per step, i.e. the
  mean minibatch cross entropy over the whole run (``gdcut.train.area_under_loss``);
  lower means faster training;
* per seed the paired gap d = AUC(ReLU) - AUC(GELU) (same seed: same initial
  weights, since the activation has no parameters, and the same batch order);
  d > 0 means GELU trained faster;
* both runs of a pair must train: final-epoch loss <= 0.75 ln 10 (chance is
  ln 10 = 2.303); otherwise the comparison is void and the test fails;
* "GELU faster at a depth": mean d > 0 and one-sided paired t-test p < 0.05;
* "the gap widens with depth": mean d at the deepest net > mean d at the
  shallowest, one-sided Welch t-test p < 0.05;
* "indistinguishable" (C6, with batch norm): two-sided paired t-test p >= 0.05
  and |mean d| <= 2% of the mean AUC.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gdcut import scales, train

pytestmark = pytest.mark.gpu

CHANCE = math.log(10)
TRAINED = 0.75 * CHANCE
ALPHA_TEST = 0.05
INDISTINGUISHABLE_RELATIVE = 0.02


@pytest.fixture(scope="module")
def preset(run_settings):
    return scales.convergence(run_settings.scale)


def pair_runs(run_settings, dataset, depth: str, batch_norm: bool) -> dict[str, list[dict]]:
    """The ReLU and GELU runs of every seed at one depth (trained once, then read from the cache)."""
    runs = {"relu": [], "gelu": []}
    for seed in scales.convergence(run_settings.scale).seeds:
        for activation in runs:
            config = scales.convergence_config(run_settings.scale, depth, activation, batch_norm, seed)
            runs[activation].append(train.train(config, dataset, run_settings.cache_dir, progress=run_settings.scale == "paper"))
    return runs


def paired_gaps(runs: dict[str, list[dict]]) -> np.ndarray:
    return np.array([train.area_under_loss(r) - train.area_under_loss(g) for r, g in zip(runs["relu"], runs["gelu"])])


def comparison(runs: dict[str, list[dict]]) -> dict:
    """The statistics of the decision rule for one depth."""
    gaps = paired_gaps(runs)
    aucs = np.array([train.area_under_loss(r) for r in runs["relu"] + runs["gelu"]])
    spread = float(gaps.std(ddof=1)) if len(gaps) > 1 else float("nan")
    if spread > 0:
        one_sided = float(stats.ttest_1samp(gaps, 0.0, alternative="greater").pvalue)
        two_sided = float(stats.ttest_1samp(gaps, 0.0).pvalue)
    else:  # identical gaps: the sign decides
        one_sided = 0.0 if gaps.mean() > 0 else 1.0
        two_sided = 0.0 if gaps.mean() != 0 else 1.0
    return {"gaps": gaps, "mean_gap": float(gaps.mean()), "sd_gap": spread, "mean_auc": float(aucs.mean()),
            "p_gelu_faster": one_sided, "p_differ": two_sided,
            "final_losses": {act: [r["epoch_loss"][-1] for r in rs] for act, rs in runs.items()}}


def record(evidence, run_settings, dataset, depth, batch_norm, runs, stats_, claim=None):
    first = runs["relu"][0]
    evidence.condition(f"scale {run_settings.scale}, device {run_settings.device}, data {dataset.source}, "
                       f"{first['initialisation']}", claim=claim)
    evidence.condition(train.precision_summary(first), claim=claim)
    config = first["config"]
    evidence.parameter("optimiser", f"{config['optimiser']} lr={config['lr']}", note="not stated in the paper; chosen",
                       claim=claim)
    evidence.parameter("epochs × batch", f"{config['epochs']} × {config['batch_size']} on {len(dataset.train_labels)} "
                       f"images ({first['steps']} steps)", note="not stated in the paper; chosen", claim=claim)
    evidence.parameter("seeds", len(runs["relu"]), note="paired ReLU/GELU per seed", claim=claim)
    label = f"{depth}{' +BN' if batch_norm else ' no BN'}"
    evidence.measure(f"{label}: mean AUC gap ReLU − GELU (nats/step)", stats_["mean_gap"], paper=None,
                     condition=f"seed sd {stats_['sd_gap']:.3f}; gaps {np.round(stats_['gaps'], 3).tolist()}", claim=claim)
    evidence.measure(f"{label}: one-sided p (GELU faster)", stats_["p_gelu_faster"], claim=claim)
    evidence.measure(f"{label}: final-epoch losses ReLU / GELU", str({k: [round(v, 3) for v in vs]
                                                                     for k, vs in stats_["final_losses"].items()}),
                     condition=f"trained if <= {TRAINED:.3f} (0.75 ln 10)", claim=claim)


def assert_both_trained(stats_, label):
    stuck = {act: [round(v, 3) for v in vs if v > TRAINED] for act, vs in stats_["final_losses"].items()}
    assert not any(stuck.values()), f"{label}: runs that did not train (final loss > {TRAINED:.3f}): {stuck}; the comparison is void"


def smoothed(curve, points: int = 120):
    """Block means of a per-step loss curve, at most ``points`` of them (for a small SVG)."""
    values = np.asarray(curve, dtype=float)
    block = max(1, len(values) // points)
    usable = len(values) // block * block
    return (np.arange(usable // block) + 0.5) * block, values[:usable].reshape(-1, block).mean(1)


def figure_2(all_runs: dict):
    """v2 Fig. 2 (v1 Fig. 2 without the BN row): training loss per step, mean over seeds, band = seed range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = sorted({depth for depth, _ in all_runs}, key=lambda d: int(d[3:]))
    fig, axes = plt.subplots(2, len(depths), figsize=(3.2 * len(depths), 5.0), squeeze=False)
    for col, depth in enumerate(depths):
        for row, batch_norm in enumerate((False, True)):
            ax = axes[row][col]
            runs = all_runs.get((depth, batch_norm))
            if runs is None:
                ax.set_visible(False)
                continue
            for activation, colour in (("relu", "tab:blue"), ("gelu", "tab:orange")):
                curves = np.array([smoothed(r["step_loss"])[1] for r in runs[activation]])
                steps = smoothed(runs[activation][0]["step_loss"])[0]
                ax.plot(steps, curves.mean(0), color=colour, label=activation.upper(), lw=1.2)
                ax.fill_between(steps, curves.min(0), curves.max(0), color=colour, alpha=0.2, lw=0)
            ax.set_title(f"{depth}, {'with' if batch_norm else 'without'} BN", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.set_ylabel("training loss", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def scale_notes(evidence, run_settings, preset, claim=None):
    for topic, why in preset.why.items():
        evidence.note(f"{run_settings.scale} scale, {topic}: {why}", claim=claim)


def depth_or_skip(preset, depth):
    if depth not in preset.depths:
        pytest.skip(f"{depth} runs only at the paper scale (this run: depths {list(preset.depths)})")


def no_bn_comparison(evidence, run_settings, dataset, preset, depth) -> dict:
    depth_or_skip(preset, depth)
    runs = pair_runs(run_settings, dataset, depth, batch_norm=False)
    result = comparison(runs)
    record(evidence, run_settings, dataset, depth, False, runs, result)
    assert_both_trained(result, depth)
    return result


@pytest.mark.claim("C5")
@pytest.mark.parametrize("depth", ["VGG11", "VGG13"])
def test_c5_gelu_trains_faster_than_relu_without_batch_norm(evidence, run_settings, dataset, preset, depth):
    result = no_bn_comparison(evidence, run_settings, dataset, preset, depth)
    assert result["mean_gap"] > 0 and result["p_gelu_faster"] < ALPHA_TEST, result


@pytest.mark.claim("C5", refutes=True)
def test_c5_deepest_net_gelu_not_consistently_faster(evidence, run_settings, dataset, preset):
    result = no_bn_comparison(evidence, run_settings, dataset, preset, "VGG19")
    evidence.note("Both activations sit on the chance-level plateau for hundreds of steps before the loss drops "
                  "(Fig. 2 regenerated); when the drop comes varies more between seeds than between activations, "
                  "so one seed trains faster with ReLU. The paper's figure shows one run per activation.")
    assert result["p_gelu_faster"] >= ALPHA_TEST and result["gaps"].min() < 0, result


@pytest.mark.claim("C6", refutes=True)
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c6_with_batch_norm_gelu_still_trains_faster(evidence, run_settings, dataset, preset, depth):
    depth_or_skip(preset, depth)
    runs = pair_runs(run_settings, dataset, depth, batch_norm=True)
    result = comparison(runs)
    record(evidence, run_settings, dataset, depth, True, runs, result)
    if depth == preset.depths[0]:  # the scale notes once per claim
        scale_notes(evidence, run_settings, preset)
    relative = abs(result["mean_gap"]) / result["mean_auc"]
    evidence.measure(f"{depth} +BN: two-sided p (ReLU and GELU differ)", result["p_differ"],
                     condition="rule for 'indistinguishable': >= 0.05")
    evidence.measure(f"{depth} +BN: |mean gap| / mean AUC", relative,
                     condition=f"rule for 'indistinguishable': <= {INDISTINGUISHABLE_RELATIVE}")
    evidence.note("Counterexample: with batch norm the GELU runs still have the lower training loss in every seed, "
                  "by a margin that the paired test separates from seed noise.")
    assert_both_trained(result, f"{depth} +BN")
    assert result["mean_gap"] > 0 and result["p_differ"] < ALPHA_TEST and relative > INDISTINGUISHABLE_RELATIVE, result


@pytest.mark.claim("C5", refutes=True)
def test_c5_gap_widening_with_depth_not_resolved_across_seeds(evidence, run_settings, dataset, preset):
    by_depth = {depth: comparison(pair_runs(run_settings, dataset, depth, batch_norm=False)) for depth in preset.depths}
    shallow, deep = preset.depths[0], preset.depths[-1]
    for depth, result in by_depth.items():
        evidence.measure(f"{depth} no BN: mean AUC gap ReLU − GELU", result["mean_gap"],
                         condition=f"seed sd {result['sd_gap']:.3f}; gaps {np.round(result['gaps'], 3).tolist()}")
    welch = stats.ttest_ind(by_depth[deep]["gaps"], by_depth[shallow]["gaps"], equal_var=False, alternative="greater")
    evidence.measure(f"one-sided Welch p (gap {deep} > gap {shallow})", float(welch.pvalue),
                     condition="rule for 'widens': < 0.05")
    all_runs = {(depth, bn): pair_runs(run_settings, dataset, depth, bn) for depth in preset.depths for bn in (False, True)}
    evidence.figure(figure_2(all_runs), caption=f"Fig. 2 regenerated ({run_settings.scale} scale; mean of "
                                                f"{len(preset.seeds)} seeds, band = seed range)")
    evidence.condition(f"scale {run_settings.scale}, device {run_settings.device}, data {dataset.source}")
    scale_notes(evidence, run_settings, preset)
    evidence.note("The mean gap is larger at the deeper net, but its seed-to-seed spread there is larger still: "
                  "with this many seeds the widening the paper reads off single curves is not resolved.")
    for result in by_depth.values():
        assert_both_trained(result, "depth comparison")
    assert welch.pvalue >= ALPHA_TEST
