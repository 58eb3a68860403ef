"""Figures shared by the runs and the paper report (matplotlib ``Figure`` objects, Agg-safe)."""
from __future__ import annotations

import numpy as np


def new_figure(ncols: int = 1, nrows: int = 1, size=(4.2, 3.6)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def grid_2d(lim: tuple[float, float, float, float], n: int = 150):
    xs = np.linspace(lim[0], lim[1], n)
    ys = np.linspace(lim[2], lim[3], n)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.stack([gx.ravel(), gy.ravel()], axis=1)


def plot_density_2d(ax, target, log_q=None, means=None, eps=None, lim=None, title: str = ""):
    """Target density (filled contours), q (black contour lines) and, for isotropic mixtures, the
    component means with circles of radius √ε_j."""
    from matplotlib.patches import Circle

    if lim is None:
        lim = (-15.0, 15.0, -15.0, 15.0)
    gx, gy, pts = grid_2d(lim)
    ax.contourf(gx, gy, np.exp(target.log_prob(pts)).reshape(gx.shape), levels=12, cmap="Blues")
    if log_q is not None:
        ax.contour(gx, gy, np.exp(log_q(pts)).reshape(gx.shape), levels=8, colors="k", linewidths=0.7)
    if means is not None:
        ax.plot(means[:, 0], means[:, 1], "r.", ms=4)
        if eps is not None:
            for m, e in zip(means, eps):
                ax.add_patch(Circle(m, np.sqrt(e), fill=False, color="r", lw=0.6))
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title, fontsize=9)


def plot_marginals(axes, target_samples: np.ndarray, q_samples: np.ndarray, label: str = "q"):
    """Histograms of the first coordinates: target (filled) vs q (step line)."""
    for i, ax in enumerate(axes):
        lo = min(target_samples[:, i].min(), q_samples[:, i].min())
        hi = max(target_samples[:, i].max(), q_samples[:, i].max())
        bins = np.linspace(lo, hi, 40)
        ax.hist(target_samples[:, i], bins=bins, density=True, alpha=0.4, label="target")
        ax.hist(q_samples[:, i], bins=bins, density=True, histtype="step", color="k", label=label)
        ax.set_xlabel(f"$x_{{{i + 1}}}$")
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    axes[0].set_ylabel("density")


def limits(samples: np.ndarray, pad: float = 0.15) -> tuple[float, float, float, float]:
    """Square-ish plotting box around 2-D samples (central 99.5% plus a margin)."""
    lo = np.quantile(samples, 0.0025, axis=0)
    hi = np.quantile(samples, 0.9975, axis=0)
    span = hi - lo
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
