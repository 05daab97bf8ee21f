"""C5, C6: ReLU against GELU in the appendix cfg VGGs, without and with batch norm (v1 Fig. 2, App. A;
v2 §3, Fig. 2, App. A.1).

One decision per claim and cell, by the rules of ``gdcut.deepnet`` (fixed
before any run): paired ReLU/GELU runs over five seeds per depth and per
setting of what the paper leaves open (optimiser and learning rate, swept by
the scale); the paired gap in area under the training-loss curve; superiority
(C5) against a margin of 2%, or equivalence (C6, "indistinguishable") within
the seed-to-seed spread; a cell whose nets did not train is inconclusive. The
settings are then combined by one rule for both claims (``deepnet.sweep_ruling``):
a setting decides only where its run and the run's first half agree
(``deepnet.over_lengths``), most settings decide, and a scale that sweeps fewer than two optimisers × two
learning rates decides nothing in either direction. No test here asserts a
measured value or the direction of an effect.
"""
from __future__ import annotations

import numpy as np
import pytest

from gdcut import deepnet, figures, scales

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def preset(run_settings):
    return scales.convergence(run_settings.scale)


@pytest.mark.claim("C5", decides=True)
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c5_gelu_trains_faster_than_relu_without_batch_norm(evidence, run_settings, dataset, preset, depth):
    deepnet.skip_unless_at_scale(preset, depth)
    sweep = deepnet.convergence_sweep(run_settings, dataset, depth, batch_norm=False)
    deepnet.record_convergence_cell(evidence, run_settings, dataset, preset, f"{depth} no BN", sweep)
    deepnet.record_sweep_decision(evidence, f"{depth} without batch norm",
                                  deepnet.over_lengths(deepnet.c5_ruling, sweep),
                                  deepnet.C5_RULE, deepnet.data_sets(sweep))


@pytest.mark.claim("C5", decides=True)
def test_c5_gap_widens_with_depth(evidence, run_settings, dataset, preset):
    shallow, deep = preset.depths[0], preset.depths[-1]
    sweeps = {(depth, bn): deepnet.convergence_sweep(run_settings, dataset, depth, bn) for depth in preset.depths
              for bn in (False, True)}
    deepnet.record_sweep_decision(
        evidence, f"{shallow} → {deep} without batch norm",
        deepnet.over_lengths(deepnet.c5_widening_ruling, sweeps[(deep, False)], sweeps[(shallow, False)]),
        deepnet.C5_WIDENING_RULE, deepnet.data_sets(sweeps[(deep, False)], sweeps[(shallow, False)]))
    for setting in preset.settings:
        evidence.figure(figures.figure_2({cell: sweep[setting] for cell, sweep in sweeps.items()}),
                        caption=f"Fig. 2 regenerated ({run_settings.scale} scale, {deepnet.setting_name(setting)}; "
                                f"mean of {len(preset.seeds)} seeds, band = seed range)")
    evidence.table("paired gaps d per depth without batch norm", ["setting", "depth", "d per seed"],
                   [[deepnet.setting_name(setting), depth,
                     str(np.round(deepnet.paired_gaps(sweeps[(depth, False)][setting]), 4).tolist())]
                    for setting in preset.settings for depth in preset.depths])


@pytest.mark.claim("C6", decides=True)
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c6_relu_and_gelu_indistinguishable_with_batch_norm(evidence, run_settings, dataset, preset, depth):
    deepnet.skip_unless_at_scale(preset, depth)
    sweep = deepnet.convergence_sweep(run_settings, dataset, depth, batch_norm=True)
    deepnet.record_convergence_cell(evidence, run_settings, dataset, preset, f"{depth} +BN", sweep)
    deepnet.record_sweep_decision(evidence, f"{depth} with batch norm",
                                  deepnet.over_lengths(deepnet.c6_ruling, sweep),
                                  deepnet.C6_RULE, deepnet.data_sets(sweep))
