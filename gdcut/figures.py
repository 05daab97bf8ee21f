"""Figure builders for the deep-net claims: the paper's figures regenerated from runs.

Each returns a matplotlib figure for ``evidence.figure``; they draw, never decide.
"""
from __future__ import annotations

import numpy as np

OPTIMISER_NAMES = {"sgd": "SGD", "rmsprop": "RMSProp", "adam": "Adam"}


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
    colours = {"rmsprop": "tab:blue", "adam": "tab:red", "sgd": "tab:green"}
    fig, axes = plt.subplots(1, len(lambdas), figsize=(3.5 * len(lambdas), 2.8), squeeze=False)
    for ax, lam in zip(axes[0], sorted(lambdas)):
        for opt, colour in colours.items():
            if (opt, lam) in results:
                curve = results[(opt, lam)].epoch_l1
                ax.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=OPTIMISER_NAMES[opt], lw=1.2)
        ax.set_yscale("log")
        _label(ax, f"λ1 = {lam:g}", "epoch", "L1 norm of the weights")
    fig.tight_layout()
    return fig
