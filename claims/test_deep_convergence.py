"""C5, C6: ReLU against GELU in the appendix cfg VGGs, without and with batch norm (v1 Fig. 2, App. A;
v2 §3, Fig. 2, App. A.1).

One decision per claim and cell, by the rules of ``gdcut.deepnet`` (fixed
before any run): paired ReLU/GELU runs over five seeds per depth; the paired
gap in area under the training-loss curve; superiority (C5) or equivalence
(C6) against a margin of 2% of the mean area; a cell whose nets did not train
is inconclusive. The same code decides at every scale; no test here asserts a
measured value or the direction of an effect.
"""
from __future__ import annotations

import numpy as np
import pytest

from gdcut import deepnet, figures, scales, train

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def preset(run_settings):
    return scales.convergence(run_settings.scale)


def pair_runs(run_settings, dataset, depth: str, batch_norm: bool) -> dict[str, list[dict]]:
    """The ReLU and GELU runs of every seed at one depth (trained once, then read from the cache)."""
    runs = {"relu": [], "gelu": []}
    for seed in scales.convergence(run_settings.scale).seeds:
        for activation in runs:
            config = scales.convergence_config(run_settings.scale, depth, activation, batch_norm, seed,
                                               forward_dtype=run_settings.forward_dtype)
            runs[activation].append(train.train(config, dataset, run_settings.cache_dir,
                                                progress=run_settings.scale == "paper"))
    return runs


def depth_or_skip(preset, depth):
    if depth not in preset.depths:
        pytest.skip(f"{depth} runs only at the paper scale (this run: depths {list(preset.depths)})")


def record_cell(evidence, run_settings, dataset, preset, label: str, runs: dict) -> None:
    """What every C5/C6 card shows for a cell: the conditions, the chosen settings and the per-seed table."""
    first = runs["relu"][0]
    evidence.condition(f"scale {run_settings.scale}, device {run_settings.device}, data {dataset.source}, "
                       f"{first['initialisation']}")
    evidence.condition(train.precision_summary(first))
    config = first["config"]
    evidence.parameter("optimiser", f"{config['optimiser']} lr={config['lr']}", note="not stated in the paper; chosen")
    evidence.parameter("epochs × batch", f"{config['epochs']} × {config['batch_size']} on {len(dataset.train_labels)} "
                       f"images ({first['steps']} steps)", note="not stated in the paper; chosen")
    evidence.parameter("seeds", len(runs["relu"]), note="paired ReLU/GELU per seed (rule: at least 5)")
    if label.startswith(preset.depths[0]):  # the scale notes once per claim
        for topic, why in preset.why.items():
            evidence.note(f"{run_settings.scale} scale, {topic}: {why}")
    gaps = deepnet.paired_gaps(runs)
    rows = [[seed, round(deepnet.area_under_loss(r), 4), round(deepnet.area_under_loss(g), 4), round(d, 4),
             round(r["epoch_loss"][-1], 3), round(g["epoch_loss"][-1], 3)]
            for seed, r, g, d in zip(preset.seeds, runs["relu"], runs["gelu"], gaps)]
    evidence.table(f"{label}: per seed", ["seed", "AUC ReLU", "AUC GELU", "d", "final loss ReLU",
                                          "final loss GELU"], rows)


@pytest.mark.claim("C5")
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c5_gelu_trains_faster_than_relu_without_batch_norm(evidence, run_settings, dataset, preset, depth):
    depth_or_skip(preset, depth)
    runs = pair_runs(run_settings, dataset, depth, batch_norm=False)
    record_cell(evidence, run_settings, dataset, preset, f"{depth} no BN", runs)
    evidence.decision(f"{depth} without batch norm", deepnet.c5_ruling(runs))


@pytest.mark.claim("C5")
def test_c5_gap_widens_with_depth(evidence, run_settings, dataset, preset):
    shallow, deep = preset.depths[0], preset.depths[-1]
    all_runs = {(depth, bn): pair_runs(run_settings, dataset, depth, bn) for depth in preset.depths
                for bn in (False, True)}
    evidence.decision(f"{shallow} → {deep} without batch norm",
                      deepnet.c5_widening_ruling(all_runs[(deep, False)], all_runs[(shallow, False)]))
    evidence.figure(figures.figure_2(all_runs), caption=f"Fig. 2 regenerated ({run_settings.scale} scale; mean of "
                                                         f"{len(preset.seeds)} seeds, band = seed range)")
    gaps = {depth: np.round(deepnet.paired_gaps(all_runs[(depth, False)]), 4).tolist() for depth in preset.depths}
    evidence.table("paired gaps d per depth without batch norm", ["depth", "d per seed"],
                   [[depth, str(d)] for depth, d in gaps.items()])


@pytest.mark.claim("C6")
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c6_relu_and_gelu_indistinguishable_with_batch_norm(evidence, run_settings, dataset, preset, depth):
    depth_or_skip(preset, depth)
    runs = pair_runs(run_settings, dataset, depth, batch_norm=True)
    record_cell(evidence, run_settings, dataset, preset, f"{depth} +BN", runs)
    evidence.decision(f"{depth} with batch norm", deepnet.c6_ruling(runs))
