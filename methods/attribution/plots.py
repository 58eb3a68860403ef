"""Figures in the paper's style: predicted vs actual effect with the y = x line (IF green, RIF blue,
NS cyan), and slope curves."""
from __future__ import annotations

import numpy as np

COLORS = {"if": "tab:green", "rif": "tab:blue", "ns": "tab:cyan"}
LABELS = {"if": "IF", "rif": "RIF", "ns": "Newton step"}
METRIC_TITLES = {
    "test_prediction": "effect on test predictions",
    "test_loss": "effect on test loss",
    "self_loss": "effect on self-loss",
}


def new_figure(ncols: int, nrows: int = 1, size: float = 3.6):
    """A matplotlib Figure (Agg canvas, no pyplot state) with a grid of axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size * ncols, size * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def scatter_panel(ax, frame, estimators=("if", "rif", "ns"), title: str = "") -> None:
    """Predicted (y) vs actual (x) for each estimator, with y = x."""
    a = frame["actual"].to_numpy()
    lo, hi = [], []
    for e in estimators:
        p = frame[e].to_numpy()
        if e == "ns":   # hollow, so that RIF stays visible where the two coincide
            ax.scatter(a, p, s=22, facecolors="none", edgecolors=COLORS[e], linewidths=0.8, label=LABELS[e])
        else:
            ax.scatter(a, p, s=10, alpha=0.7, color=COLORS[e], label=LABELS[e])
        lo.append(min(a.min(), p.min()))
        hi.append(max(a.max(), p.max()))
    if len(a):
        m0, m1 = min(lo), max(hi)
        ax.plot([m0, m1], [m0, m1], "k--", lw=1, label="y = x")
    ax.set_xlabel("actual effect (refit)")
    ax.set_ylabel("predicted effect")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)


def scatter_figure(effects, metrics=("test_prediction", "test_loss", "self_loss"), suptitle: str = ""):
    """One panel per metric of predicted vs actual removal effects."""
    fig, axes = new_figure(len(metrics))
    for ax, m in zip(axes[0], metrics):
        base = m.removesuffix("_lin")
        title = METRIC_TITLES[base] + (" (linearised)" if m.endswith("_lin") else "")
        scatter_panel(ax, effects[effects["metric"] == m], title=title)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def slope_curve(ax, x, slopes: dict[str, np.ndarray], errors: dict[str, np.ndarray] | None = None,
                xlabel: str = "", logx: bool = True, title: str = "") -> None:
    """Slope of predicted vs actual against a swept parameter, one line per estimator, with s = 1."""
    for e, s in slopes.items():
        err = None if errors is None else errors.get(e)
        ax.errorbar(x, s, yerr=err, marker="o", color=COLORS[e], label=LABELS[e], capsize=3)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="perfect (s = 1)")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("slope of predicted vs actual")
    ax.set_title(title)
    ax.legend(fontsize=8)
