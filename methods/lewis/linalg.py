"""Weighted least squares with equality constraints: the "linear-system solve" of the IRLS.

Everything is float64, uses one Cholesky factorisation of the d × d matrix AᵀWA per solve and never
forms an n × n matrix.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from runner.api import UserError


def cholesky(M: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor L of a symmetric positive-definite M = LLᵀ (UserError if singular)."""
    try:
        return sla.cholesky(M, lower=True, check_finite=False)
    except sla.LinAlgError:
        raise UserError("the weighted normal matrix AᵀWA is singular: the design matrix (and, for "
                        "Lewis weights, [A, -b]) must have full column rank; OPT = 0 instances "
                        "(b in the range of A) are not supported") from None


def gram(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AᵀWA = Σᵢ wᵢ aᵢaᵢᵀ for W = diag(w), as BᵀB with B = W^{1/2}A (numpy's symmetric rank-k path)."""
    B = A * np.sqrt(w)[:, None]
    return B.T @ B


def kkt_solve(A: np.ndarray, w: np.ndarray, rhs: np.ndarray, N: np.ndarray | None = None,
              v: np.ndarray | None = None) -> np.ndarray:
    """Solve the KKT system  [[AᵀWA, Nᵀ], [N, 0]] [x; μ] = [rhs; v]  for x.

    With H = AᵀWA = LLᵀ (one Cholesky), x_u = H⁻¹ rhs and Y = H⁻¹Nᵀ, the Schur complement gives
    μ = (NY)⁻¹(N x_u − v) and x = x_u − Yμ.  One step of iterative refinement on the full KKT
    residual keeps the solve exact to rounding (the lower bound of the IRLS needs exact solves).
    """
    L = cholesky(gram(A, w))
    constrained = N is not None and N.shape[0] > 0
    if constrained:
        Y = sla.cho_solve((L, True), N.T, check_finite=False)
        S = N @ Y

    def solve_once(r1: np.ndarray, r2: np.ndarray | None):
        xu = sla.cho_solve((L, True), r1, check_finite=False)
        if not constrained:
            return xu, None
        mu = np.linalg.solve(S, N @ xu - r2)
        return xu - Y @ mu, mu

    x, mu = solve_once(rhs, v)
    # one step of iterative refinement on both block rows, with the same factorisation
    r1 = rhs - A.T @ (w * (A @ x)) - (N.T @ mu if constrained else 0.0)
    dx, _ = solve_once(r1, (v - N @ x) if constrained else None)
    return x + dx


def weighted_ls(A: np.ndarray, b: np.ndarray, w: np.ndarray, N: np.ndarray | None = None,
                v: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """x(w) = argmin_{Nx=v} Σᵢ wᵢ (aᵢᵀx − bᵢ)²  and its energy E(w) = Σᵢ wᵢ rᵢ(x)².

    This is the spec's homogenised problem  min_{Ñz=ṽ} Σ wᵢ(ãᵢᵀz)²  with z = (x, 1), Ã = [A, −b],
    written in the variable x (identical solutions; z's last entry is then exactly 1).
    """
    x = kkt_solve(A, w, A.T @ (w * b), N, v)
    r = A @ x - b
    return x, float(np.dot(w, r * r))
