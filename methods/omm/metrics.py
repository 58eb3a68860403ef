"""Evaluation metrics for learned eigenfunctions (numpy, float64).

Functions are given by their values on a common set of points (rows) or, for matrices, by their
coordinates; inner products are sums over rows, so every metric here is invariant to a common
rescaling of the rows (sum vs mean over samples).
"""
from __future__ import annotations

import numpy as np


def subspace_distance(F: np.ndarray, Phi: np.ndarray) -> float:
    """NeuralSVD's subspace distance ``1 - tr(P_F P_Phi) / k`` with ``k = Phi.shape[1]``.

    ``tr(P_F P_Phi) = tr(Phi^T F (F^T F)^{-1} F^T Phi (Phi^T Phi)^{-1})``; 0 iff the spans agree.
    """
    F = np.asarray(F, np.float64)
    Phi = np.asarray(Phi, np.float64)
    C = Phi.T @ F
    inner = C @ np.linalg.solve(F.T @ F, C.T)
    return float(1.0 - np.trace(np.linalg.solve(Phi.T @ Phi, inner)) / Phi.shape[1])


def eigen_blocks(lam: np.ndarray, tol: float = 1e-8) -> list[np.ndarray]:
    """Index blocks of (sorted) eigenvalues equal up to ``tol * max(1, |lambda|)``."""
    lam = np.asarray(lam, np.float64)
    blocks, start = [], 0
    for i in range(1, len(lam) + 1):
        if i == len(lam) or abs(lam[i] - lam[i - 1]) > tol * max(1.0, abs(lam[i - 1])):
            blocks.append(np.arange(start, i))
            start = i
    return blocks


def _unit_columns(X: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(X, axis=0)
    return X / np.where(n > 0, n, 1.0)


def procrustes_rotation(F: np.ndarray, Phi: np.ndarray, lam: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Block-diagonal orthogonal ``Q`` (k x k) aligning the true basis to the learned functions.

    In a block B of equal true eigenvalues the truth is only defined up to rotation; there
    ``Q_B = U V^T`` from ``C = Phi_B^T F_B = U S V^T`` (columns normalised), the orthogonal
    Procrustes solution maximising ``tr(Q_B^T C)``.  Singleton blocks get ``sign(C)``.
    """
    Fn, Pn = _unit_columns(np.asarray(F, np.float64)), _block_orthonormal(Phi, lam, tol)
    k = Pn.shape[1]
    Q = np.zeros((k, k))
    for b in eigen_blocks(np.asarray(lam)[:k], tol):
        U, _, Vt = np.linalg.svd(Pn[:, b].T @ Fn[:, b])
        Q[np.ix_(b, b)] = U @ Vt
    return Q


def _block_orthonormal(Phi: np.ndarray, lam: np.ndarray, tol: float) -> np.ndarray:
    """Unit columns, and inside each degenerate block the nearest orthonormal basis
    ``P_B (P_B^T P_B)^{-1/2}`` (sampled eigenfunctions are orthonormal only approximately)."""
    P = _unit_columns(np.asarray(Phi, np.float64))
    for b in eigen_blocks(np.asarray(lam)[:P.shape[1]], tol):
        if len(b) > 1:
            w, U = np.linalg.eigh(P[:, b].T @ P[:, b])
            P[:, b] = P[:, b] @ (U / np.sqrt(w)) @ U.T
    return P


def aligned_cosines(F: np.ndarray, Phi: np.ndarray, lam: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Per-mode ``|cos(f_i, (Phi Q)_i)|`` with the oracle rotation Q of :func:`procrustes_rotation`
    (plain ``|cos(f_i, phi_i)|`` for non-degenerate modes); at most 1 by Cauchy-Schwarz."""
    Fn, Pn = _unit_columns(np.asarray(F, np.float64)), _block_orthonormal(Phi, lam, tol)
    Q = procrustes_rotation(Fn, Pn, lam, tol)
    return np.abs(np.einsum("ni,ni->i", Pn @ Q, Fn))


def rayleigh_quotients(M_f: np.ndarray, M_fTf: np.ndarray) -> np.ndarray:
    """Eigenvalue estimates ``lambda_i = M[f, Tf]_ii / M[f]_ii`` (spec 2.3, eigenvalue readout)."""
    return np.diagonal(np.asarray(M_fTf, np.float64)) / np.diagonal(np.asarray(M_f, np.float64))


def orthonormality_error(M_f: np.ndarray) -> float:
    """``||M[f] - I||_F`` (0 at an OMM optimum; LoRA's optimum has ``M[f] = diag(lambda)``)."""
    M = np.asarray(M_f, np.float64)
    return float(np.linalg.norm(M - np.eye(M.shape[0])))


def linear_probe_accuracy(Z: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """Test accuracy of a logistic-regression probe on a stratified 50/50 split of embedding ``Z``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Ztr, Zte, ytr, yte = train_test_split(Z, y, test_size=0.5, random_state=seed, stratify=y)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(Ztr, ytr)
    return float(clf.score(Zte, yte))


def mode_report(F: np.ndarray, Phi: np.ndarray, lam: np.ndarray, M_f: np.ndarray, M_fTf: np.ndarray,
                tol: float = 1e-8) -> dict[str, np.ndarray | float]:
    """All per-mode and summary metrics of learned values F against the truth (Phi, lam).

    ``cos`` (aligned |cos|), ``lam_hat`` (Rayleigh quotients), ``eig_rel_err = |lam_hat - lam|/|lam|``,
    ``norm2 = M[f]_ii``, ``subspace_dist``, ``orth_err``.
    """
    lam = np.asarray(lam, np.float64)
    lam_hat = rayleigh_quotients(M_f, M_fTf)
    return {"cos": aligned_cosines(F, Phi, lam, tol), "lam": lam, "lam_hat": lam_hat,
            "eig_rel_err": np.abs(lam_hat - lam) / np.abs(lam), "norm2": np.diagonal(M_f).copy(),
            "subspace_dist": subspace_distance(F, Phi), "orth_err": orthonormality_error(M_f)}
