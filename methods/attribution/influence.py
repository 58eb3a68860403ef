"""Influence functions (IF), rescaled influence functions (RIF) and the Newton step (NS).

At the fitted θ̂ of ``logistic.py`` with pᵢ = σ(xᵢᵀθ̂), αᵢ = pᵢ(1 − pᵢ):

    gᵢ = (pᵢ − yᵢ) xᵢ + λθ̂                     per-sample gradient incl. its regulariser share; Σᵢ gᵢ = 0
    H  = Σᵢ αᵢ xᵢxᵢᵀ + nλI                     the *total* Hessian (n × the mean Hessian)
    hᵢ = αᵢ xᵢᵀH⁻¹xᵢ ∈ (0, 1)                  generalised leverage
    IFᵢ  = H⁻¹gᵢ                               IF_T  = Σ_{i∈T} IFᵢ
    RIFᵢ = H⁻¹gᵢ / (1 − hᵢ)                    RIF_T = Σ_{i∈T} RIFᵢ
    NS_T = (H − Σ_{i∈T}(αᵢxᵢxᵢᵀ + λI))⁻¹ Σ_{i∈T} gᵢ

each the predicted Δθ = θ̂₋T − θ̂ (note the + sign).  NS_T is exactly the first Newton step of the
refit from θ̂.  One Cholesky factor of H gives IF for all samples and every hᵢ in O(n d²), without
n × n matrices.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.special import expit

ESTIMATORS = ("if", "rif", "ns")


def per_sample_gradients(X: np.ndarray, y: np.ndarray, theta: np.ndarray, lam: float) -> np.ndarray:
    """Rows gᵢ = (σ(xᵢᵀθ) − yᵢ) xᵢ + λθ (n × d)."""
    return (expit(X @ theta) - y)[:, None] * X + lam * theta[None, :]


def total_hessian(X: np.ndarray, theta: np.ndarray, lam: float) -> np.ndarray:
    """H = Xᵀ diag(α) X + nλI with αᵢ = pᵢ(1 − pᵢ)."""
    p = expit(X @ theta)
    H = (X.T * (p * (1.0 - p))) @ X
    H[np.diag_indices_from(H)] += len(X) * lam
    return H


def leverages(X: np.ndarray, alpha: np.ndarray, chol_lower: np.ndarray) -> np.ndarray:
    """hᵢ = αᵢ ‖L⁻¹xᵢ‖² = αᵢ xᵢᵀH⁻¹xᵢ for H = LLᵀ: one triangular solve, O(n d²) in total."""
    W = solve_triangular(chol_lower, X.T, lower=True, check_finite=False)
    return alpha * np.einsum("ij,ij->j", W, W)


def rescale(influences: np.ndarray, h: np.ndarray, floor: float = 1e-12) -> tuple[np.ndarray, int]:
    """RIFᵢ = IFᵢ / (1 − hᵢ), with 1 − hᵢ guarded from below by ``floor``; returns the number of
    guarded rows too (it should be 0; a large count means the model interpolates)."""
    denom = 1.0 - h
    clipped = denom < floor
    return influences / np.maximum(denom, floor)[:, None], int(clipped.sum())


class Attribution:
    """All per-sample quantities at a fitted θ̂, computed once; set estimates are row sums."""

    def __init__(self, X: np.ndarray, y: np.ndarray, theta: np.ndarray, lam: float,
                 leverage_floor: float = 1e-12):
        self.X, self.y, self.theta, self.lam = X, y, theta, float(lam)
        self.n, self.d = X.shape
        self.p = expit(X @ theta)
        self.alpha = self.p * (1.0 - self.p)
        self.leverage_floor = leverage_floor
        self.G = per_sample_gradients(X, y, theta, lam)
        self.H = total_hessian(X, theta, lam)

    @cached_property
    def chol(self) -> tuple[np.ndarray, bool]:
        return cho_factor(self.H, lower=True, check_finite=False)

    @cached_property
    def h(self) -> np.ndarray:
        """Leverages hᵢ (total Hessian)."""
        return leverages(self.X, self.alpha, np.tril(self.chol[0]))

    @cached_property
    def IF(self) -> np.ndarray:
        """Rows IFᵢ = H⁻¹gᵢ (n × d)."""
        return cho_solve(self.chol, self.G.T, check_finite=False).T

    @cached_property
    def _rif(self) -> tuple[np.ndarray, int]:
        return rescale(self.IF, self.h, self.leverage_floor)

    @property
    def RIF(self) -> np.ndarray:
        """Rows RIFᵢ = IFᵢ / (1 − hᵢ) (n × d)."""
        return self._rif[0]

    @property
    def n_clipped(self) -> int:
        """How many 1 − hᵢ were below the guard."""
        return self._rif[1]

    @cached_property
    def eig(self) -> tuple[np.ndarray, np.ndarray]:
        """H = V diag(e) Vᵀ; gives (H − kλI)⁻¹ for every k at O(d²) per product."""
        return np.linalg.eigh(self.H)

    def _shifted_solve(self, shift: float, M: np.ndarray) -> np.ndarray:
        """(H − shift·I)⁻¹ M through the eigendecomposition."""
        e, V = self.eig
        VtM = V.T @ M
        return V @ (VtM / (e - shift).reshape((-1,) + (1,) * (M.ndim - 1)))

    @cached_property
    def NS1(self) -> np.ndarray:
        """Rows of the single-sample Newton step (H − λI − αᵢxᵢxᵢᵀ)⁻¹gᵢ, by Sherman–Morrison on
        A = H − λI:  A⁻¹gᵢ + αᵢ (A⁻¹xᵢ)(xᵢᵀA⁻¹gᵢ) / (1 − αᵢ xᵢᵀA⁻¹xᵢ)."""
        AG = self._shifted_solve(self.lam, self.G.T).T
        AX = self._shifted_solve(self.lam, self.X.T).T
        c = np.einsum("ij,ij->i", self.X, AG)
        q = np.einsum("ij,ij->i", self.X, AX)
        return AG + (self.alpha * c / (1.0 - self.alpha * q))[:, None] * AX

    def per_sample(self, estimator: str) -> np.ndarray:
        """Per-sample predicted Δθ (n × d) of ``estimator`` ∈ {if, rif, ns}."""
        return {"if": lambda: self.IF, "rif": lambda: self.RIF, "ns": lambda: self.NS1}[estimator]()

    # -- group estimates ---------------------------------------------------------------------
    def set_if(self, T: np.ndarray) -> np.ndarray:
        return self.IF[T].sum(axis=0)

    def set_rif(self, T: np.ndarray) -> np.ndarray:
        return self.RIF[T].sum(axis=0)

    def set_ns(self, T: np.ndarray) -> np.ndarray:
        """NS_T; Woodbury through the eigendecomposition when k < d/2, else one d × d solve."""
        return newton_step_woodbury(self, T) if 2 * len(T) < self.d else newton_step_direct(self, T)

    def estimates(self, T: np.ndarray) -> dict[str, np.ndarray]:
        """Predicted Δθ of every estimator for the removal set T."""
        return {"if": self.set_if(T), "rif": self.set_rif(T), "ns": self.set_ns(T)}


def newton_step_direct(a: Attribution, T: np.ndarray) -> np.ndarray:
    """NS_T = (H − kλI − X_Tᵀ D_T X_T)⁻¹ Σ_T gᵢ by one Cholesky solve (O(k d² + d³))."""
    XT = a.X[T]
    M = a.H - (XT.T * a.alpha[T]) @ XT
    M[np.diag_indices_from(M)] -= len(T) * a.lam
    return cho_solve(cho_factor(M, check_finite=False), a.G[T].sum(axis=0), check_finite=False)


def newton_step_woodbury(a: Attribution, T: np.ndarray) -> np.ndarray:
    """NS_T by Woodbury on A = H − kλI (eigendecomposition) and S = D_T^{1/2} X_T:
    (A − SᵀS)⁻¹b = A⁻¹b + A⁻¹Sᵀ (I − S A⁻¹ Sᵀ)⁻¹ S A⁻¹b  (stable when some αᵢ are tiny)."""
    k = len(T)
    S = np.sqrt(a.alpha[T])[:, None] * a.X[T]
    b = a.G[T].sum(axis=0)
    Ab = a._shifted_solve(k * a.lam, b)
    AS = a._shifted_solve(k * a.lam, S.T)
    C = np.eye(k) - S @ AS
    return Ab + AS @ np.linalg.solve(C, S @ Ab)
