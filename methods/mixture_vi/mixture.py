"""Uniform-weight Gaussian mixtures: log-density, mixture score and Monte Carlo Stein gradients.

The variational family is q(x) = (1/N) Σ_j N(x; m_j, ε_j I_d) (isotropic) or
q(x) = (1/N) Σ_j N(x; m_j, Σ_j) (full covariances, the BW baseline).  Weights are uniform and fixed.
Everything is vectorised over points and components: x has shape (M, d), means (N, d).
"""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

LOG_2PI = float(np.log(2.0 * np.pi))


def iso_logpdf_and_score(x: np.ndarray, means: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log q(x) and ∇log q(x) for q = (1/N) Σ_l N(m_l, ε_l I).

    log q(x) = logsumexp_l [ -|x-m_l|²/(2ε_l) - (d/2) log(2π ε_l) ] - log N,
    ∇log q(x) = Σ_l r_l(x) · (-(x-m_l)/ε_l) with responsibilities r = softmax_l(·) (stable far from
    every component: no ratio of underflowing sums).  Returns arrays of shape (M,) and (M, d).
    """
    d = x.shape[-1]
    diff = x[:, None, :] - means[None, :, :]                       # (M, N, d)
    comp = -0.5 * np.einsum("mnd,mnd->mn", diff, diff) / eps - 0.5 * d * (LOG_2PI + np.log(eps))
    logq = logsumexp(comp, axis=1) - np.log(len(means))
    resp = softmax(comp, axis=1)
    score = -np.einsum("mn,mnd->md", resp / eps, diff)
    return logq, score


def full_logpdf_and_score(x: np.ndarray, means: np.ndarray, chol_inv: np.ndarray,
                          logdet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log q(x) and ∇log q(x) for q = (1/N) Σ_l N(m_l, Σ_l), Σ_l = L_l L_lᵀ.

    With z_l = L_l⁻¹(x - m_l): log N_l = -|z_l|²/2 - log|Σ_l|/2 - (d/2) log 2π and
    ∇log N_l = -L_l⁻ᵀ z_l = -Σ_l⁻¹(x - m_l); the mixture score is their responsibility-weighted sum.
    ``chol_inv`` is (N, d, d) = L⁻¹, ``logdet`` is (N,) = log|Σ_l|.
    """
    d = x.shape[-1]
    diff = x[None, :, :] - means[:, None, :]                       # (N, M, d)
    z = diff @ np.swapaxes(chol_inv, 1, 2)                         # batched BLAS: z_l = L_l⁻¹(x - m_l)
    comp = -0.5 * np.einsum("nmi,nmi->nm", z, z) - 0.5 * logdet[:, None] - 0.5 * d * LOG_2PI
    logq = logsumexp(comp, axis=0) - np.log(len(means))
    resp = softmax(comp, axis=0)
    score = -((resp[:, :, None] * z) @ chol_inv).sum(axis=0)       # Σ_l r_l L_l⁻ᵀ z_l
    return logq, score


def iso_stein_stats(means: np.ndarray, eps: np.ndarray, xi: np.ndarray, target_score) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo Stein statistics of Prop. 3.1 for every component at once.

    x_jb = m_j + √ε_j ξ_b (one noise block ξ of shape (B, d) shared by all components),
    δ(x) = ∇log q(x) - ∇log π(x),
    G_j = (1/B) Σ_b δ(x_jb)            (∇_{m_j}F = G_j / N),
    S_j = (1/B) Σ_b (x_jb - m_j)ᵀδ(x_jb)  (∂F/∂ε_j = S_j / (2Nε_j)).
    Returns G (N, d) and S (N,).
    """
    n, d = means.shape
    b = xi.shape[0]
    root = np.sqrt(eps)
    x = (means[:, None, :] + root[:, None, None] * xi[None]).reshape(n * b, d)
    _, score_q = iso_logpdf_and_score(x, means, eps)
    delta = (score_q - target_score(x)).reshape(n, b, d)
    G = delta.mean(axis=1)
    S = root * np.einsum("bd,nbd->n", xi, delta) / b
    return G, S


def full_stein_stats(means: np.ndarray, chol: np.ndarray, chol_inv: np.ndarray, logdet: np.ndarray,
                     xi: np.ndarray, target_score) -> tuple[np.ndarray, np.ndarray]:
    """Stein statistics of the full-covariance mixture: x_jb = m_j + L_j ξ_b,
    G_j = E[δ(x)] (N, d) and H_j = E[δ(x)(x - m_j)ᵀ] Σ_j⁻¹ = E[δ(x) ξᵀ] L_j⁻¹ (N, d, d),
    an estimate of E_j[∇²V] - Σ_j⁻¹ (Stein's lemma; exact for one Gaussian component).
    """
    n, d = means.shape
    b = xi.shape[0]
    x = (means[:, None, :] + xi @ np.swapaxes(chol, 1, 2)).reshape(n * b, d)
    _, score_q = full_logpdf_and_score(x, means, chol_inv, logdet)
    delta = (score_q - target_score(x)).reshape(n, b, d)
    G = delta.mean(axis=1)
    H = (np.swapaxes(delta, 1, 2) @ xi / b) @ chol_inv
    return G, H
