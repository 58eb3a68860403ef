"""L2-regularised logistic regression, the spec's convention (no intercept; a bias column is a feature).

    L(θ) = (1/n) Σᵢ ℓᵢ(θ) + (λ/2)‖θ‖²,   ℓᵢ(θ) = softplus(xᵢᵀθ) − yᵢ xᵢᵀθ,   yᵢ ∈ {0, 1}.

A refit after removing a set T keeps the same λ on the mean over the n − k retained samples, i.e.
every sample carries its own share (λ/2)‖θ‖² of the regulariser.  Everything is float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit

GRAD_TOL = 1e-10


def sample_losses(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ℓ(z, y) = softplus(z) − y z = log(1 + eᶻ) − y z, computed with ``logaddexp`` (no overflow)."""
    return np.logaddexp(0.0, z) - y * z


def loss_change(z: np.ndarray, dz: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ℓ(z + dz, y) − ℓ(z, y) without cancellation for small ``dz``.

    softplus(z + δ) − softplus(z) = log1p(σ(z)·expm1(δ)), exact in floating point when |δ| is small;
    the plain difference is used where |δ| ≥ 1 (no cancellation there).
    """
    z, dz = np.broadcast_arrays(z, dz)
    small = np.abs(dz) < 1.0
    sp = np.where(small, np.log1p(expit(z) * np.expm1(np.where(small, dz, 0.0))),
                  np.logaddexp(0.0, z + dz) - np.logaddexp(0.0, z))
    return sp - y * dz


def objective(theta: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> float:
    """L(θ) = mean ℓᵢ(θ) + (λ/2)‖θ‖²."""
    return float(np.mean(sample_losses(X @ theta, y)) + 0.5 * lam * theta @ theta)


def gradient(theta: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """∇L(θ) = (1/n) Xᵀ(σ(Xθ) − y) + λθ."""
    return X.T @ (expit(X @ theta) - y) / len(y) + lam * theta


def mean_hessian(theta: np.ndarray, X: np.ndarray, lam: float) -> np.ndarray:
    """∇²L(θ) = (1/n) Xᵀ diag(αᵢ) X + λI with αᵢ = pᵢ(1 − pᵢ)."""
    p = expit(X @ theta)
    H = (X.T * (p * (1.0 - p))) @ X / len(X)
    H[np.diag_indices_from(H)] += lam
    return H


@dataclass
class Fit:
    """A fitted θ with its final gradient norm and the number of Newton iterations."""

    theta: np.ndarray
    grad_norm: float
    n_iter: int


def fit_logistic(X: np.ndarray, y: np.ndarray, lam: float, theta0: np.ndarray | None = None,
                 tol: float = GRAD_TOL, max_iter: int = 200, armijo: float = 0.25) -> Fit:
    """Minimise L(θ) by Newton's method with Armijo backtracking (c = ``armijo``, halving).

    step = (∇²L)⁻¹∇L (Cholesky); accept θ − t·step once L(θ − t·step) ≤ L(θ) − c·t·∇Lᵀstep.
    When the predicted decrease ∇Lᵀstep is below what float64 can resolve in L, the full Newton step
    is taken (quadratic-convergence region).  Stops at ‖∇L‖ ≤ ``tol`` and raises ``RuntimeError``
    if that is not reached: an under-converged ground truth biases every comparison.
    """
    if lam <= 0:
        raise ValueError("lam must be > 0")
    theta = np.zeros(X.shape[1]) if theta0 is None else np.array(theta0, dtype=np.float64)
    f = objective(theta, X, y, lam)
    for it in range(max_iter + 1):
        g = gradient(theta, X, y, lam)
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol:
            return Fit(theta, gnorm, it)
        if it == max_iter:
            break
        step = cho_solve(cho_factor(mean_hessian(theta, X, lam)), g)
        decrease = float(g @ step)
        if decrease <= 1e-13 * max(1.0, abs(f)):
            theta = theta - step
            f = objective(theta, X, y, lam)
            continue
        t = 1.0
        while True:
            cand = theta - t * step
            f_cand = objective(cand, X, y, lam)
            if f_cand <= f - armijo * t * decrease or t < 1e-10:
                break
            t *= 0.5
        theta, f = cand, f_cand
    raise RuntimeError(f"Newton did not reach ||grad|| <= {tol:g} in {max_iter} iterations "
                       f"(||grad|| = {gnorm:.3g})")


def refit_without(X: np.ndarray, y: np.ndarray, lam: float, theta_hat: np.ndarray,
                  removed: np.ndarray) -> Fit:
    """Ground truth θ̂₋T: the same objective (same λ, mean over the n − k kept samples) refit by
    Newton warm-started at θ̂, to ‖∇L₋T‖ ≤ 1e-10 (``fit_logistic`` raises otherwise)."""
    keep = np.ones(len(y), dtype=bool)
    keep[removed] = False
    return fit_logistic(X[keep], y[keep], lam, theta0=theta_hat)
