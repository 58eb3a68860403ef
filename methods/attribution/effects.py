"""Effects of a parameter change Δθ on the paper's metrics, and the agreement statistics.

Each effect is (value at θ̂ + Δθ) − (value at θ̂):

- ``test_prediction``: Σ_{j∈F} σ(x_jᵀθ) over the fixed test set F;   linear: Σ_j p_j(1 − p_j) x_jᵀΔθ
- ``test_loss``:       Σ_{j∈F} ℓ_j(θ);                               linear: (Σ_j ∇ℓ_j)ᵀΔθ
- ``self_loss``:       Σ over all n original training samples (removed ones included) of
                       ℓᵢ(θ) + (λ/2)‖θ‖²;                          linear: ½ΔθᵀHΔθ (∇ = 0 at θ̂)

The ``_lin`` variants apply the linearisation to the estimated and to the actual Δθ alike.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from methods.attribution.logistic import loss_change

METRICS = ("test_prediction", "test_loss", "self_loss")
ALL_METRICS = tuple(m + s for m in METRICS for s in ("", "_lin"))


class Effects:
    """The metrics of one fitted model: call with a stack of Δθ (m × d) → {metric: m values}."""

    def __init__(self, X_train, y_train, X_fixed, y_fixed, theta, lam, H):
        self.Xtr, self.ytr, self.XF, self.yF = X_train, y_train, X_fixed, y_fixed
        self.theta, self.lam, self.H = theta, lam, H
        self.ztr, self.zF = X_train @ theta, X_fixed @ theta
        pF = expit(self.zF)
        self.grad_pred = (pF * (1.0 - pF)) @ X_fixed
        self.grad_loss = (pF - y_fixed) @ X_fixed

    def __call__(self, deltas: np.ndarray) -> dict[str, np.ndarray]:
        D = np.atleast_2d(deltas)
        dzF = self.XF @ D.T                         # |F| × m
        dztr = self.Xtr @ D.T                       # n × m
        zF = self.zF[:, None]
        n = len(self.ytr)
        reg = 0.5 * self.lam * n * (2.0 * D @ self.theta + np.einsum("ij,ij->i", D, D))
        return {
            "test_prediction": (expit(zF + dzF) - expit(zF)).sum(axis=0),
            "test_prediction_lin": D @ self.grad_pred,
            "test_loss": loss_change(zF, dzF, self.yF[:, None]).sum(axis=0),
            "test_loss_lin": D @ self.grad_loss,
            "self_loss": loss_change(self.ztr[:, None], dztr, self.ytr[:, None]).sum(axis=0) + reg,
            "self_loss_lin": 0.5 * np.einsum("ij,jk,ik->i", D, self.H, D),
        }


def slope(predicted, actual) -> float:
    """Least-squares slope through the origin of predicted on actual: s = (p·a)/(a·a).
    s = 1 is perfect; s < 1 means the estimator underestimates the effect."""
    p, a = np.asarray(predicted, float), np.asarray(actual, float)
    aa = float(a @ a)
    return float(p @ a / aa) if aa > 0 else float("nan")


def pearson(predicted, actual) -> float:
    """Pearson correlation of predicted and actual (nan for fewer than 2 points or no spread)."""
    p, a = np.asarray(predicted, float), np.asarray(actual, float)
    if len(p) < 2 or np.std(p) == 0 or np.std(a) == 0:
        return float("nan")
    return float(np.corrcoef(p, a)[0, 1])
