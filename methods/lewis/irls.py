"""Certified IRLS for overdetermined ℓ∞ regression  min_{Nx=v} ‖Ax − b‖∞  (spec §2 (d), (e)).

Every iterate gives two certificates, whatever the weight update:
  LB(w) = √(E(w)/Σw) ≤ OPT   because E(w) = min_{Nx=v} Σwᵢrᵢ² ≤ Σwᵢ(r*ᵢ)² ≤ OPT²·Σw,
  UB    = ‖Ax(w) − b‖∞ ≥ OPT  because x(w) is feasible.
The loop stops when UB ≤ (1+ε)·LB, which certifies that the best iterate is (1+ε)-optimal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from methods.lewis.linalg import weighted_ls
from methods.lewis.weights import homogenise, lewis_overestimate

UPDATES = ("threshold", "lawson")


@dataclass
class IrlsResult:
    """Best feasible point, its certificates and the per-solve trace (solve, lb, ub, tau)."""

    x: np.ndarray
    lb: float
    ub: float
    ub0: float
    n_solves: int
    converged: bool
    sum_w_init: float
    trace: list = field(default_factory=list)


def threshold_update(w: np.ndarray, r: np.ndarray, tau: float, eps: float) -> np.ndarray:
    """wᵢ ← wᵢ·min((rᵢ/τ)², 4) on S = {i : |rᵢ| > (1+ε/3)τ}, unchanged elsewhere (spec §2 (e))."""
    S = np.abs(r) > (1.0 + eps / 3.0) * tau
    out = w.copy()
    out[S] *= np.minimum((r[S] / tau) ** 2, 4.0)
    return out


def lawson_update(w: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Lawson (1961): wᵢ ← wᵢ|rᵢ| / Σⱼ wⱼ|rⱼ|."""
    out = w * np.abs(r)
    return out / out.sum()


def initial_weights(A: np.ndarray, b: np.ndarray, init: str, lewis_iters: int) -> np.ndarray:
    """Certified overestimate of Ã = [A, −b]: Lewis fixed point (``lewis``) or uniform (K = 0)."""
    K = lewis_iters if init == "lewis" else 0
    return lewis_overestimate(homogenise(A, b), K)[0]


def irls_linf(A: np.ndarray, b: np.ndarray, w0: np.ndarray, eps: float, update: str = "threshold",
              N: np.ndarray | None = None, v: np.ndarray | None = None, max_solves: int = 500,
              delta: float = 1e-3, floor: float = 1e-12) -> IrlsResult:
    """IRLS from the overestimate ``w0`` (spec §2 (e)).

    Start at w = w0 + δ·(Σw0/n)·1.  ``threshold``: geometric bisection on a target τ = √(LB·UB);
    after each solve, if LB > τ or ‖r‖∞ ≤ (1+ε/3)τ the bracket moved and τ is reset to √(LB·UB),
    then the thresholded multiplicative update is applied.  ``lawson``: Lawson's update.  Weights
    are renormalised to Σw = 1 and floored at ``floor``/n after every update (WLS is
    scale-invariant), so redundant rows never underflow to an exactly singular system.
    The first solve's UB is ``ub0`` (≤ √Σw0 · OPT for an overestimate w0).
    """
    n = A.shape[0]
    w = w0 + delta * (w0.sum() / n)
    sum_w_init = float(w.sum())
    w = w / w.sum()
    lb, ub, best, tau, ub0 = 0.0, np.inf, None, None, None
    trace = []
    for k in range(1, max_solves + 1):
        x, E = weighted_ls(A, b, w, N, v)
        r = A @ x - b
        rmax = float(np.abs(r).max())
        lb = max(lb, float(np.sqrt(E / w.sum())))
        if rmax < ub:
            ub, best = rmax, x
        if ub0 is None:
            ub0 = rmax
        if update == "threshold" and (tau is None or np.sqrt(E / w.sum()) > tau
                                      or rmax <= (1.0 + eps / 3.0) * tau):
            tau = float(np.sqrt(lb * ub))
        trace.append((k, lb, ub, tau if tau is not None else np.nan))
        if ub <= (1.0 + eps) * lb:
            return IrlsResult(best, lb, ub, ub0, k, True, sum_w_init, trace)
        w = threshold_update(w, r, tau, eps) if update == "threshold" else lawson_update(w, r)
        w = w / w.sum() + floor / n
    return IrlsResult(best, lb, ub, ub0, max_solves, False, sum_w_init, trace)
