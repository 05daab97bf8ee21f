"""C5, C6: ReLU against GELU in the appendix cfg VGGs, without and with batch norm (v1 Fig. 2, App. A;
v2 §3, Fig. 2, App. A.1).

One decision per claim and cell, by the rules of ``gdcut.deepnet`` (fixed
before any run): paired ReLU/GELU runs over five seeds per depth; the paired
gap in area under the training-loss curve; superiority (C5) or equivalence
(C6) against a margin of 2% of the mean area; a cell whose nets did not train
is inconclusive. A refuting cell is reported inconclusive, with its statistics:
the paper does not state the optimiser or its settings and the suite runs one
of them, so the counterexample is not certified (``deepnet.uncertified``). The
same code decides at every scale; no test here asserts a measured value or the
direction of an effect.
"""
from __future__ import annotations

import numpy as np
import pytest

from gdcut import deepnet, figures, scales

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def preset(run_settings):
    return scales.convergence(run_settings.scale)


@pytest.mark.claim("C5")
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c5_gelu_trains_faster_than_relu_without_batch_norm(evidence, run_settings, dataset, preset, depth):
    deepnet.skip_unless_at_scale(preset, depth)
    runs = deepnet.convergence_runs(run_settings, dataset, depth, batch_norm=False)
    deepnet.record_convergence_cell(evidence, run_settings, dataset, preset, f"{depth} no BN", runs)
    evidence.decision(f"{depth} without batch norm", deepnet.uncertified(
        deepnet.c5_ruling(runs), deepnet.convergence_uncertainty(run_settings.scale, preset, dataset)))


@pytest.mark.claim("C5")
def test_c5_gap_widens_with_depth(evidence, run_settings, dataset, preset):
    shallow, deep = preset.depths[0], preset.depths[-1]
    all_runs = {(depth, bn): deepnet.convergence_runs(run_settings, dataset, depth, bn) for depth in preset.depths
                for bn in (False, True)}
    evidence.decision(f"{shallow} → {deep} without batch norm", deepnet.uncertified(
        deepnet.c5_widening_ruling(all_runs[(deep, False)], all_runs[(shallow, False)]),
        deepnet.convergence_uncertainty(run_settings.scale, preset, dataset)))
    evidence.figure(figures.figure_2(all_runs), caption=f"Fig. 2 regenerated ({run_settings.scale} scale; mean of "
                                                         f"{len(preset.seeds)} seeds, band = seed range)")
    gaps = {depth: np.round(deepnet.paired_gaps(all_runs[(depth, False)]), 4).tolist() for depth in preset.depths}
    evidence.table("paired gaps d per depth without batch norm", ["depth", "d per seed"],
                   [[depth, str(d)] for depth, d in gaps.items()])


@pytest.mark.claim("C6")
@pytest.mark.parametrize("depth", ["VGG11", "VGG13", "VGG19"])
def test_c6_relu_and_gelu_indistinguishable_with_batch_norm(evidence, run_settings, dataset, preset, depth):
    deepnet.skip_unless_at_scale(preset, depth)
    runs = deepnet.convergence_runs(run_settings, dataset, depth, batch_norm=True)
    deepnet.record_convergence_cell(evidence, run_settings, dataset, preset, f"{depth} +BN", runs)
    evidence.decision(f"{depth} with batch norm", deepnet.uncertified(
        deepnet.c6_ruling(runs), deepnet.convergence_uncertainty(run_settings.scale, preset, dataset)))
