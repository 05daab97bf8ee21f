"""Figure builders for the claims: the paper's figures regenerated from runs.

Each returns a matplotlib figure for ``evidence.figure``; they draw, never decide.
"""
from __future__ import annotations

import numpy as np

from gdcut.optimisers import DISPLAY_NAMES


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(ax, title: str, xlabel: str, ylabel: str) -> None:
    """Title, axis labels and legend in the small type every panel of these figures uses."""
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def smoothed(curve, points: int = 120):
    """Block means of a per-step loss curve, at most ``points`` of them (for a small SVG)."""
    values = np.asarray(curve, dtype=float)
    block = max(1, len(values) // points)
    usable = len(values) // block * block
    return (np.arange(usable // block) + 0.5) * block, values[:usable].reshape(-1, block).mean(1)


def figure_2(all_runs: dict):
    """v2 Fig. 2 (v1 Fig. 2 without the BN row): training loss per step, mean over seeds, band = seed range.

    ``all_runs`` maps (depth, batch_norm) to {"relu": [TrainResult], "gelu": [TrainResult]}.
    """
    plt = _pyplot()
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
                curves = np.array([smoothed(r.step_loss)[1] for r in runs[activation]])
                steps = smoothed(runs[activation][0].step_loss)[0]
                ax.plot(steps, curves.mean(0), color=colour, label=activation.upper(), lw=1.2)
                ax.fill_between(steps, curves.min(0), curves.max(0), color=colour, alpha=0.2, lw=0)
            _label(ax, f"{depth}, {'with' if batch_norm else 'without'} BN", "step", "training loss")
    fig.tight_layout()
    return fig


def figure_3(results: dict, lambdas):
    """v2 Fig. 3: L1 norm of the weights per epoch, one panel per λ1; the paper's colours.

    ``results`` maps (optimiser, λ1) to a ``TrainResult``.
    """
    plt = _pyplot()
    # the paper's colours for its three optimisers; momentum (not in the paper) gets its own
    colours = {"rmsprop": "tab:blue", "adam": "tab:red", "sgd": "tab:green", "momentum": "tab:purple"}
    fig, axes = plt.subplots(1, len(lambdas), figsize=(3.5 * len(lambdas), 2.8), squeeze=False)
    for ax, lam in zip(axes[0], sorted(lambdas)):
        for opt, colour in colours.items():
            if (opt, lam) in results:
                curve = results[(opt, lam)].epoch_l1
                ax.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=DISPLAY_NAMES[opt], lw=1.2)
        ax.set_yscale("log")
        _label(ax, f"λ1 = {lam:g}", "epoch", "L1 norm of the weights")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- analytic claims
def _downsample(curve, points: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """About ``points`` entries of a per-step curve, spaced evenly on a log axis (for a small SVG)."""
    index = np.unique(np.geomspace(1, len(curve), points).astype(int) - 1)
    return index, curve[index]


def figure_1(losses, sup_norm, rates):
    """v1/v2 Fig. 1: NDGM on the loss of eq. 3, the loss and ‖β_k‖∞ against k + 1.

    ``losses`` and ``sup_norm`` have one column per step size of ``rates``.
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    for j, rate in enumerate(rates):
        k, curve = _downsample(losses[:, j])
        left.semilogx(k + 1, curve, label=f"α={rate:g}")
        k, curve = _downsample(sup_norm[:, j])
        right.semilogx(k + 1, curve, label=f"α={rate:g}")
    right.axhline(1.0, color="k", lw=0.8, ls="--")
    left.set(xlabel="k + 1", ylabel="loss of eq. 3 at β_k")
    right.set(xlabel="k + 1", ylabel="‖β_k‖∞")
    left.legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure_4(losses, rates, steps: int = 300):
    """v2 Fig. 4 (v1 Fig. 3): GD on the Huber loss, the first ``steps`` losses, one panel per step size of ``rates``.

    An oscillating curve drawn point to point fills a solid band: each panel draws its
    envelope (max and min over 10 steps) with the band between them shaded.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(rates), figsize=(9, 2.6))
    for ax, j in zip(axes, range(len(rates))):
        windows = np.lib.stride_tricks.sliding_window_view(losses[:steps, j], 10)
        k = np.arange(windows.shape[0])
        ax.fill_between(k, windows.min(1), windows.max(1), color="C0", alpha=0.2, lw=0)
        ax.plot(k, windows.max(1), lw=0.9, color="C0", label="max over 10 steps")
        ax.plot(k, windows.min(1), lw=0.9, color="C3", label="min over 10 steps")
        ax.set(title=f"α = {rates[j]:g}", xlabel="k", yscale="log")
    axes[0].set_ylabel("Huber loss (eq. 13 v1 / 10 v2) at β_k")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure_5(final_losses: dict):
    """v2 Fig. 5: the last 100 losses of RMSProp and NDGM on the toy LASSO, one panel per λ1.

    ``final_losses`` maps λ1 to (RMSProp losses, NDGM losses) of one seed, 100 each.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(final_losses), figsize=(8, 3))
    for ax, (lam, (rms, ndgm)) in zip(axes, final_losses.items()):
        ax.semilogy(range(100), np.maximum(rms, 1e-300), label="RMSProp (torch)")
        ax.semilogy(range(100), ndgm, label="NDGM")
        ax.set_title(f"λ1 = {lam:g}, seed 0")
        ax.set_xlabel("last 100 of 10^5 iterations")
    axes[0].set_ylabel("loss λ1‖β‖₁")
    axes[0].legend()
    return fig


def rmsprop_lower_share(lambdas, shares):
    """Beside Fig. 5: the share of seeds whose RMSProp run ends below NDGM's, against λ1 (the paper's "≈ 1")."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogx(lambdas, shares, marker="o")
    ax.axvline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("λ1")
    ax.set_ylabel("share of seeds: RMSProp lower")
    return fig


def lasso_path(path, solutions: dict):
    """The general LASSO's path (v2 §4, claim L21): ‖β‖₁ and the share of exact zeros against λ1, per solver.

    ``solutions`` maps "sklearn Lasso", "ISTA" and "NDGM α=0.01" to one solution per λ1 of ``path``.
    ISTA reaches scikit-learn's optimum, so the two curves coincide: scikit-learn is drawn
    wide with open markers underneath, ISTA thin and dashed on top, so both stay visible.
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    styles = {"sklearn Lasso": dict(lw=4, alpha=0.45, marker="o", ms=9, mfc="none"),
              "ISTA": dict(lw=1.2, ls="--", marker="x", ms=5),
              "NDGM α=0.01": dict(lw=1.2, marker="s", ms=4)}
    for label, betas in solutions.items():
        left.loglog(path, np.maximum(np.abs(betas).sum(1), 1e-6), label=label, **styles[label])
        right.semilogx(path, (betas == 0).mean(1), label=label, **styles[label])
    left.set_xlabel("λ1")
    left.set_ylabel("‖β‖₁ (0 shown as 1e-6)")
    left.legend()
    right.set_xlabel("λ1")
    right.set_ylabel("share of exact zeros")
    return fig


def threshold_curve(rows: list[dict], thresholds, paper_threshold: float):
    """Table 2's threshold as a curve: the share of weights with |w| < t for t over ``thresholds``.

    Each row of ``rows`` is one run: ``label``, the penalty-only share per
    threshold (``predicted``), the band width of its final 2-cycle (``band``, or
    None: then the uniform-band line min(1, t/band) is not drawn), the measured
    share below ``paper_threshold`` (``measured``, what decides), the run's final
    share per threshold (``measured_curve``, or empty where the run did not record
    one) and the paper's (``paper``, in percent, or None). The paper's threshold
    is marked: that point decides.
    """
    plt = _pyplot()
    t = np.asarray(thresholds, dtype=float)
    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 2.8), squeeze=False)
    for ax, row in zip(axes[0], rows):
        ax.plot(t, 100 * np.asarray(row["predicted"]), color="tab:gray", lw=1.2, label="penalty only")
        if row["band"] is not None:
            ax.plot(t, 100 * np.minimum(1.0, t / row["band"]), color="tab:gray", ls=":", lw=1.0,
                    label="uniform in band")
        if len(row["measured_curve"]):
            ax.plot(t, 100 * np.asarray(row["measured_curve"]), color="tab:blue", lw=1.2, label="measured, last step")
        ax.axvline(paper_threshold, color="black", lw=0.6)
        ax.plot([paper_threshold], [100 * row["measured"]], "o", color="tab:blue", ms=5, label="measured (decides)")
        if row["paper"] is not None:
            ax.plot([paper_threshold], [row["paper"]], "x", color="tab:red", ms=6, label="paper")
        ax.set_xscale("log")
        ax.set_ylim(-2, 102)
        _label(ax, row["label"], "threshold t", "% of weights with |w| < t")
    fig.tight_layout()
    return fig
