"""L18-L20: VGG16 fine-tuned with L1-penalised cross entropy (v1 §3, App. B; v2 §4, Fig. 3, Table 2, App. C).

Each run is the paper's App. B/C loop: torchvision VGG16 with its 1000-way
head, CIFAR-10 (or the embedded Fashion-MNIST) normalised as the paper's
transform, constant-step SGD / RMSProp / Adam with torch's defaults, seed 42,
and the L1 subgradient of every parameter added to its gradient.

Beside each measured share of |w| < 1e-5 stand the paper's number and what the
LASSO analysis predicts for a weight whose data gradient vanishes (the toy
problem L3 = lambda1 ||w||_1 of v2 §4 and App. B), computed for this run's own
initial weights and number of steps by running the same torch.optim rule on
the penalty alone (for SGD, v2 Prop. B.1-B.2 give the same in closed form,
``gdcut.theory.ndgm_iterate``), and the width of the band the weights end up
oscillating in: lr*lambda1 for SGD, lr for RMSProp whatever lambda1 (Prop. B.5).

Decision rules, fixed before the runs were looked at:

* L18 (paradox of v1): the larger lambda1 (0.1) ends with the larger L1 norm and
  the smaller share below 1e-5 than lambda1 = 0.001;
* L19 (a) "differ substantially": at each lambda1, the largest final L1 norm
  over the three optimisers is at least twice the smallest; (b) for SGD and
  Adam, the final L1 norm at lambda1 = 2 exceeds that at 0.002;
* L20 (Table 2's pattern): for SGD and Adam the share below 1e-5 is larger at
  lambda1 = 0.002 than at 2 (the paper's point under Table 2); SGD at 0.002
  has a share at least 10 times its share at 2; every cell other than SGD at
  0.002 lies below 5%, as all five of the paper's do.
"""
from __future__ import annotations

import numpy as np
import pytest

from gdcut import scales, theory, train

pytestmark = pytest.mark.gpu

TABLE2 = {("sgd", 0.002): 99.89, ("sgd", 2.0): 0.18, ("rmsprop", 0.002): 0.09, ("rmsprop", 2.0): 1.21,
          ("adam", 0.002): 3.31, ("adam", 2.0): 2.28}  # v2 Table 2, percent
V1_PAPER = {0.1: {"l1": 69178.44, "share": 0.01}, 0.001: {"l1": 2113.83, "share": 99.7}}  # v1 §3, percent
NAMES = {"sgd": "SGD", "rmsprop": "RMSProp", "adam": "Adam"}


@pytest.fixture(scope="module")
def preset(run_settings):
    return scales.l1(run_settings.scale)


def run(run_settings, dataset, version, optimiser, lambda1) -> dict:
    config = scales.l1_config(run_settings.scale, version, optimiser, lambda1)
    paper = run_settings.scale == "paper"
    # a full VGG16 checkpoint with Adam state is ~1.6 GB: every 10 epochs at the paper scale
    return train.train(config, dataset, run_settings.cache_dir, progress=paper, checkpoint_every=10 if paper else 1)


def band_width(optimiser: str, lr: float, lambda1: float) -> float | None:
    """Width of the 2-cycle a penalty-dominated weight settles in (None where no closed form is derived)."""
    if optimiser == "sgd":
        return theory.step_length(lr, lambda1)  # v2 Prop. B.2
    if optimiser == "rmsprop":  # torch defaults: alpha = 0.99, eps = 1e-8; v2 Prop. B.5
        return float(theory.rmsprop_step_torch(lr, 0.99, 1e-8, lambda1, 10**9))
    return None


def predictions(result: dict) -> dict:
    """What the LASSO analysis predicts for this run if the penalty alone acted (shares as fractions)."""
    if result["key"] not in _PREDICTED:
        _PREDICTED[result["key"]] = _predictions(result)
    return _PREDICTED[result["key"]]


_PREDICTED: dict[str, dict] = {}  # several tests read the same run's predictions


def _predictions(result: dict) -> dict:
    config = result["config"]
    sample = result["initial_weight_sample"]
    final = train.penalty_only_weights(sample, config["optimiser"], config["lr"], config["lambda1"], result["steps"])
    out = {"share": float((final.abs() < train.PAPER_THRESHOLD).float().mean()),
           "l1": float(final.abs().double().mean()) * result["parameters"],
           "band": band_width(config["optimiser"], config["lr"], config["lambda1"])}
    if config["optimiser"] == "sgd":
        iterate = theory.ndgm_iterate(sample.double().numpy(), config["lr"], config["lambda1"], result["steps"])
        out["closed_form_share"] = float((np.abs(iterate) < train.PAPER_THRESHOLD).mean())
        entry = theory.band_entry_step(sample.double().numpy(), config["lr"], config["lambda1"])
        out["steps_to_band_median"], out["steps_to_band_p99"] = (int(np.median(entry)), int(np.quantile(entry, 0.99)))
    out["band_limit"] = None if out["band"] is None else min(1.0, train.PAPER_THRESHOLD / out["band"])
    return out


def describe_run(evidence, run_settings, dataset, result, claim=None):
    evidence.condition(f"scale {run_settings.scale}, device {run_settings.device}, data {dataset.source}, "
                       f"{result['initialisation']}, {result['parameters']:,} parameters, {result['steps']} steps",
                       claim=claim)
    evidence.condition(train.precision_summary(result), claim=claim)


def scale_notes(evidence, run_settings, preset, claim=None):
    for topic, why in preset.why.items():
        evidence.note(f"{run_settings.scale} scale, {topic}: {why}", claim=claim)
    evidence.note("torchvision VGG16 keeps its 1000-way ImageNet head (the paper's code never replaces it): the "
                  "990 outputs no label uses get only push-down gradients that fade as their softmax mass goes, "
                  "so their weights are left to the penalty; on 32x32 inputs the last feature map is 1x1 and the "
                  "adaptive pool copies it 49 times into the 25088 inputs of the first linear layer.", claim=claim)


def sgd_penalty_l1(result: dict, steps: int) -> float:
    """Penalty-only L1 norm of an SGD run after ``steps`` (closed form, v2 Prop. B.1-B.2), scaled to all parameters."""
    sample = result["initial_weight_sample"].double().numpy()
    iterate = theory.ndgm_iterate(sample, result["config"]["lr"], result["config"]["lambda1"], steps)
    return float(np.abs(iterate).mean()) * result["parameters"]


def sgd_paradox_step(small: dict, large: dict, limit: int = 10**7) -> int:
    """First step at which the penalty-only L1 norm of the small-lambda1 SGD run falls below the large one's.

    The analysis' answer to "how long until a larger lambda1 ends with the larger L1 norm" for
    weights the penalty dominates; bisection, since the small run's norm only falls while the
    large run's settles in its band within a few steps.
    """
    low, high = 0, limit
    if sgd_penalty_l1(small, high) >= sgd_penalty_l1(large, high):
        return limit
    while high - low > 1:
        middle = (low + high) // 2
        if sgd_penalty_l1(small, middle) < sgd_penalty_l1(large, middle):
            high = middle
        else:
            low = middle
    return high


def v1_runs(run_settings, dataset) -> dict:
    return {lam: run(run_settings, dataset, "v1", "sgd", lam) for lam in scales.V1_L1["lambdas"]}


def record_v1(evidence, run_settings, dataset, preset, results) -> None:
    describe_run(evidence, run_settings, dataset, results[0.1])
    scale_notes(evidence, run_settings, preset)
    evidence.parameter("optimiser", "SGD lr=0.01", note="v1 App. B")
    config = results[0.1]["config"]
    evidence.parameter("epochs × batch", f"{config['epochs']} × {config['batch_size']}",
                       note="v1 App. B: 150 × 512" + ("" if run_settings.scale == "paper" else " (smoke scale: see notes)"))
    rows = []
    for lam, result in results.items():
        p = predictions(result)
        evidence.measure(f"final L1 norm, λ1={lam}", result["epoch_l1"][-1], paper=V1_PAPER[lam]["l1"],
                         condition=f"penalty-only prediction {p['l1']:.4g}")
        evidence.measure(f"% |w|<1e-5, λ1={lam}", 100 * result["share_below_threshold"], paper=V1_PAPER[lam]["share"],
                         unit="%", condition=f"penalty-only prediction {100 * p['share']:.2f}%, "
                                             f"band lr·λ1 = {p['band']:.0e}, 1e-5/band = {100 * p['band_limit']:.2f}%")
        rows.append([lam, f"{result['epoch_l1'][-1]:.4g}", V1_PAPER[lam]["l1"], f"{p['l1']:.4g}",
                     f"{100 * result['share_below_threshold']:.2f}", V1_PAPER[lam]["share"], f"{100 * p['share']:.2f}"])
    evidence.table("v1 §3 as measured", ["λ1", "final L1 norm", "paper", "penalty-only L1", "% < 1e-5", "paper %",
                                         "penalty-only %"], rows)
    evidence.note("At λ1 = 0.1 the SGD band is lr·λ1 = 1e-3 wide, so a weight spread evenly over it is below 1e-5 "
                  "with probability 1%: the paper's '0.01%' equals that prediction read as a fraction (0.01), "
                  "which the App. B code prints; the paper's 99.7% at λ1 = 0.001 is likewise consistent with a fraction "
                  "of 0.997 written as a percentage. Whether the 0.01% is a unit slip cannot be settled from the text.")


def record_crossing(evidence, results) -> int:
    crossing = sgd_paradox_step(results[0.001], results[0.1])
    evidence.measure("predicted step from which L1 norm(λ1=0.1) > L1 norm(λ1=0.001) (penalty-only, closed form)",
                     crossing, condition=f"this run: {results[0.1]['steps']} steps; the paper: 150 epochs × 98 = 14700")
    return crossing


@pytest.mark.claim("L18")
def test_l18_smaller_penalty_leaves_more_weights_below_threshold(evidence, run_settings, dataset, preset):
    results = v1_runs(run_settings, dataset)
    record_v1(evidence, run_settings, dataset, preset, results)
    record_crossing(evidence, results)
    assert results[0.001]["share_below_threshold"] > results[0.1]["share_below_threshold"]


@pytest.mark.claim("L18")
def test_l18_larger_penalty_ends_with_larger_l1_norm(evidence, run_settings, dataset, preset):
    results = v1_runs(run_settings, dataset)
    crossing = record_crossing(evidence, results)
    if results[0.1]["steps"] < crossing:
        pytest.skip(f"run of {results[0.1]['steps']} steps ends before step {crossing}, from which the analysis "
                    "predicts the larger penalty's L1 norm to exceed the smaller's: 'at the end of fine-tuning' "
                    "is not reached (see the L18 refuting test)")
    ratio = results[0.1]["epoch_l1"][-1] / results[0.001]["epoch_l1"][-1]
    evidence.measure("L1 norm ratio λ1=0.1 / λ1=0.001", ratio, paper=69178.44 / 2113.83)
    assert ratio > 1


@pytest.mark.claim("L18", refutes=True)
def test_l18_short_run_ends_with_the_usual_l1_order(evidence, run_settings, dataset, preset):
    results = v1_runs(run_settings, dataset)
    describe_run(evidence, run_settings, dataset, results[0.1])
    crossing = record_crossing(evidence, results)
    if results[0.1]["steps"] >= crossing:
        pytest.skip(f"run long enough ({results[0.1]['steps']} >= {crossing} steps) for the paradox to form; "
                    "the supporting test decides")
    ratio = results[0.1]["epoch_l1"][-1] / results[0.001]["epoch_l1"][-1]
    evidence.measure("L1 norm ratio λ1=0.1 / λ1=0.001", ratio, paper=69178.44 / 2113.83,
                     condition=f"run of {results[0.1]['steps']} steps, shorter than the predicted {crossing}")
    evidence.note("Counterexample under a condition: a run that stops before the analysis' crossing step ends with "
                  "the larger penalty giving the smaller L1 norm, so the v1 paradox in L1 norm needs long fine-tuning "
                  "at a constant step; the share below 1e-5 shows the paradox already (supporting test).")
    assert ratio < 1


def v2_runs(run_settings, dataset, optimisers=scales.V2_L1["optimisers"]) -> dict:
    return {(opt, lam): run(run_settings, dataset, "v2", opt, lam)
            for opt in optimisers for lam in scales.V2_L1["lambdas"]}


def figure_3(results: dict):
    """v2 Fig. 3: L1 norm of the weights per epoch, lambda1 = 0.002 (left) and 2 (right); the paper's colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"rmsprop": "tab:blue", "adam": "tab:red", "sgd": "tab:green"}
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.8))
    for ax, lam in zip(axes, scales.V2_L1["lambdas"]):
        for opt, colour in colours.items():
            if (opt, lam) in results:
                curve = results[(opt, lam)]["epoch_l1"]
                ax.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=NAMES[opt], lw=1.2)
        ax.set_yscale("log")
        ax.set_title(f"λ1 = {lam:g}", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("L1 norm of the weights", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def l1_rows(results: dict) -> tuple[list, dict]:
    rows, predicted = [], {}
    for (opt, lam), result in results.items():
        predicted[(opt, lam)] = p = predictions(result)
        rows.append([NAMES[opt], lam, f"{result['epoch_l1'][-1]:.4g}", f"{p['l1']:.4g}"])
    return rows, predicted


@pytest.mark.claim("L19")
def test_l19a_final_l1_norms_differ_across_optimisers(evidence, run_settings, dataset, preset):
    results = v2_runs(run_settings, dataset)
    describe_run(evidence, run_settings, dataset, results[("sgd", 2.0)])
    scale_notes(evidence, run_settings, preset)
    evidence.parameter("lr", 0.003, note="v2 §4, App. C")
    evidence.parameter("λ1", "0.002 and 2", note="v2 Fig. 3, Table 2, App. C (the §4 text writes 0.0002)")
    evidence.parameter("optimiser state", "fresh for every run",
                       note="App. C reuses one optimiser per kind for both λ1 runs (λ1 = 2 first); here each run starts clean")
    rows, _ = l1_rows(results)
    evidence.table("final L1 norm per optimiser and λ1, beside the penalty-only prediction",
                   ["optimiser", "λ1", "final L1 norm", "penalty-only prediction"], rows)
    evidence.figure(figure_3(results), caption=f"v2 Fig. 3 regenerated ({run_settings.scale} scale)")
    for lam in scales.V2_L1["lambdas"]:
        finals = [results[(opt, lam)]["epoch_l1"][-1] for opt in scales.V2_L1["optimisers"]]
        evidence.measure(f"largest / smallest final L1 norm across optimisers, λ1={lam:g}", max(finals) / min(finals),
                         paper="'differ substantially'", condition="rule: >= 2")
        assert max(finals) >= 2 * min(finals)


def record_table2_row(evidence, run_settings, dataset, preset, optimiser, results) -> dict:
    """Measured share per lambda1 beside Table 2 and the predictions; returns the shares (fractions)."""
    describe_run(evidence, run_settings, dataset, results[(optimiser, 2.0)])
    if optimiser == "sgd":  # the scale notes once per claim
        scale_notes(evidence, run_settings, preset)
    shares, rows = {}, []
    for lam in scales.V2_L1["lambdas"]:
        result = results[(optimiser, lam)]
        p = predictions(result)
        shares[lam] = result["share_below_threshold"]
        band = "—" if p["band"] is None else f"{p['band']:.3g}"
        naive = "—" if p["band_limit"] is None else f"{100 * p['band_limit']:.3g}"
        evidence.measure(f"{NAMES[optimiser]} % |w|<1e-5, λ1={lam:g}", 100 * shares[lam], paper=TABLE2[(optimiser, lam)],
                         unit="%", condition=f"penalty-only prediction {100 * p['share']:.2f}%; band {band}")
        rows.append([NAMES[optimiser], lam, f"{100 * shares[lam]:.2f}", TABLE2[(optimiser, lam)],
                     f"{100 * p['share']:.2f}", band, naive])
        if "steps_to_band_p99" in p:
            evidence.measure(f"{NAMES[optimiser]} λ1={lam:g}: steps for 99% of sampled weights to reach the band",
                             p["steps_to_band_p99"], condition=f"this run: {result['steps']} steps (v2 Prop. B.2: n_k = |w0|/(α λ1))")
    evidence.table(f"Table 2, {NAMES[optimiser]} row: measured, paper, predicted",
                   ["optimiser", "λ1", "measured %", "paper %", "penalty-only %", "band width",
                    "1e-5/band % (uniform in band)"], rows)
    return shares


@pytest.mark.claim("L20")
def test_l20_sgd_small_penalty_leaves_far_more_weights_below_threshold(evidence, run_settings, dataset, preset):
    results = v2_runs(run_settings, dataset, ("sgd",))
    shares = record_table2_row(evidence, run_settings, dataset, preset, "sgd", results)
    evidence.note("Prediction (v2 Prop. B.2): a penalty-dominated weight under SGD ends in a 2-cycle inside "
                  "(-αλ1, αλ1); αλ1 = 6e-6 < 1e-5 at λ1 = 0.002, so every such weight that has reached the band "
                  "counts; at λ1 = 2 the band is 6e-3 wide and about 1e-5/6e-3 = 0.17% of it lies below 1e-5.")
    assert shares[0.002] > shares[2.0]
    assert shares[0.002] >= 10 * shares[2.0]
    assert shares[2.0] < 0.05


@pytest.mark.claim("L20", refutes=True)
def test_l20_rmsprop_leaves_far_more_weights_below_threshold_than_table2(evidence, run_settings, dataset, preset):
    results = v2_runs(run_settings, dataset, ("rmsprop",))
    shares = record_table2_row(evidence, run_settings, dataset, preset, "rmsprop", results)
    evidence.note("Prediction: torch's RMSProp on the penalty alone takes steps lr/sqrt(1 - 0.99^t): ten times lr "
                  "at first, falling to lr (v2 eq. 20-21, Prop. B.5), the same sequence for every penalty-dominated "
                  "weight whatever λ1. A 2-cycle with a shrinking step drifts until one of its two points sits next to "
                  "0, and in float32 that point rounds to exactly 0, which is absorbing (v2 Prop. B.4). So the "
                  "penalty-only share below 1e-5 is large and the same for both λ1; the naive band argument "
                  "(|w| spread over a band of width lr = 3e-3, so ~0.3% below 1e-5) misses the phase locking.")
    evidence.note("Counterexample to Table 2's RMSProp row (0.09% and 1.21%): rule 'every cell but SGD at λ1 = 0.002 "
                  "is below 5%' fails for RMSProp at this scale.")
    assert min(shares.values()) >= 0.05


@pytest.mark.claim("L20", refutes=True)
def test_l20_adam_share_does_not_drop_with_the_larger_penalty(evidence, run_settings, dataset, preset):
    results = v2_runs(run_settings, dataset, ("adam",))
    shares = record_table2_row(evidence, run_settings, dataset, preset, "adam", results)
    drop = 100 * (shares[0.002] - shares[2.0])
    evidence.measure("Adam: % at λ1=0.002 minus % at λ1=2 (percentage points)", drop, paper=3.31 - 2.28,
                     condition="rule for a counterexample: < 0.5 points")
    evidence.note("Prediction: Adam divides the step by the root of its second moment, so on a penalty-dominated "
                  "weight the step is about lr whatever λ1; the penalty-only share is the same at both λ1 (about 3% "
                  "for these weights, close to both Table 2 values). Table 2's drop from 3.31% to 2.28% is the "
                  "paper's example of a larger λ1 giving fewer prunable weights; here the drop is absent.")
    for lam, share in shares.items():
        evidence.measure(f"Adam λ1={lam:g} below 5% (as both of Table 2's Adam cells)", share < 0.05)
    assert drop < 0.5


@pytest.mark.claim("L19", refutes=True)
def test_l19b_adam_ends_with_smaller_l1_norm_at_the_larger_penalty(evidence, run_settings, dataset, preset):
    results = v2_runs(run_settings, dataset, ("sgd", "adam"))
    describe_run(evidence, run_settings, dataset, results[("adam", 2.0)])
    rows, _ = l1_rows(results)
    evidence.table("final L1 norm at λ1 = 0.002 and 2 (SGD, Adam), beside the penalty-only prediction",
                   ["optimiser", "λ1", "final L1 norm", "penalty-only prediction"], rows)
    for opt in ("sgd", "adam"):
        evidence.measure(f"{NAMES[opt]}: final L1 norm λ1=2 / λ1=0.002",
                         results[(opt, 2.0)]["epoch_l1"][-1] / results[(opt, 0.002)]["epoch_l1"][-1],
                         paper="> 1 (v2 §4, Fig. 3)")
    crossing = sgd_paradox_step(results[("sgd", 0.002)], results[("sgd", 2.0)])
    evidence.measure("SGD: predicted step from which L1 norm(λ1=2) > L1 norm(λ1=0.002) (penalty-only, closed form)",
                     crossing, condition=f"this run: {results[('sgd', 2.0)]['steps']} steps; the paper: 200 × 98 = 19600; "
                                         "SGD's ordering is not a counterexample before that step")
    evidence.note("Prediction: Adam's penalty-only L1 norm is the same for both λ1 (its step does not scale with "
                  "λ1); what separates the runs is the data gradient, which holds more weights away from 0 when "
                  "λ1 is small. The paper's ordering for Adam (larger λ1, larger L1 norm) is the counterexample's "
                  "target.")
    assert results[("adam", 2.0)]["epoch_l1"][-1] < results[("adam", 0.002)]["epoch_l1"][-1]
