"""One iteration of each optimiser, given the Stein statistics G_j, S_j (``mixture.iso_stein_stats``).

All components are updated simultaneously (Jacobi style).  γ is the step size, d the dimension.
The N of ∇_{m_j}F = G_j/N and the N of the step cancel, so no N appears below.
"""
from __future__ import annotations

import numpy as np

MD_MAX_EXPONENT = 30.0   # exp(30) ≈ 1e13: beyond that the MD step is clipped and the clip is counted


class NegativeVariance(ArithmeticError):
    """NGD produced a non-positive precision 1/ε_j (the paper's failure mode; never abs() it)."""


def gd_means(means: np.ndarray, G: np.ndarray, lr: float) -> np.ndarray:
    """Gradient step on the means: m_j ← m_j - γ N ∇_{m_j}F = m_j - γ G_j."""
    return means - lr * G


def ibw_variances(eps: np.ndarray, S: np.ndarray, lr: float, d: int) -> np.ndarray:
    """Isotropic Bures–Wasserstein step (Eq. 12): ε_j ← ε_j (1 - γ S_j / (d ε_j))².

    Positive by construction (a square times ε_j); asserted.
    """
    new = eps * (1.0 - lr * S / (d * eps)) ** 2
    assert np.all(new > 0), "IBW variance update produced a non-positive variance"
    return new


def md_variances(eps: np.ndarray, S: np.ndarray, lr: float, d: int) -> tuple[np.ndarray, int]:
    """Entropic mirror-descent step (Eq. 13): ε_j ← ε_j exp(-γ S_j / (d ε_j)).

    The exponent is clipped at ``MD_MAX_EXPONENT`` (tiny ε_j gives exp(+γ/ε_j) overflow); returns the
    new variances and the number of clipped components, which callers report.
    """
    expo = -lr * S / (d * eps)
    clipped = int(np.sum(expo > MD_MAX_EXPONENT))
    new = eps * np.exp(np.minimum(expo, MD_MAX_EXPONENT))
    assert np.all(new > 0), "MD variance update produced a non-positive variance"
    return new, clipped


def ngd_step(means: np.ndarray, eps: np.ndarray, G: np.ndarray, S: np.ndarray, lr: float,
             d: int) -> tuple[np.ndarray, np.ndarray]:
    """Natural-gradient step (Lin et al. 2019, isotropic, fixed weights):
    1/ε_j ← 1/ε_j + γ S_j/(d ε_j), then m_j ← m_j - γ ε_j^new G_j (preconditioned by the new ε).

    Raises :class:`NegativeVariance` when a precision becomes ≤ 0.
    """
    prec = 1.0 / eps + lr * S / (d * eps)
    if np.any(prec <= 0) or not np.all(np.isfinite(prec)):
        raise NegativeVariance(f"NGD precision went non-positive for {int(np.sum(prec <= 0))} component(s)")
    new_eps = 1.0 / prec
    return means - lr * new_eps[:, None] * G, new_eps


def shared_variance(eps: float, S: np.ndarray, lr: float, d: int, rule: str) -> tuple[float, int]:
    """Shared-variance step (IBW-s / MD-s) [inferred]: one ε for all components.

    ∂F/∂ε = Σ_j S_j / (2Nε); the BW cost of moving the shared ε is d(√ε - √τ)² (the mixing measure
    has total mass 1), so the step is the one-component rule with S̄ = (1/N) Σ_j S_j:
    IBW-s: ε ← ε (1 - γ S̄/(d ε))²;  MD-s: ε ← ε exp(-γ S̄/(d ε)).
    """
    s_bar = np.array([np.mean(S)])
    e = np.array([eps])
    if rule == "ibw":
        return float(ibw_variances(e, s_bar, lr, d)[0]), 0
    new, clipped = md_variances(e, s_bar, lr, d)
    return float(new[0]), clipped


def bw_covariances(cov: np.ndarray, H: np.ndarray, lr: float) -> np.ndarray:
    """Full-covariance Bures–Wasserstein step (Lambert et al. 2022) with true matrix products:
    M_j = I - γ sym(H_j), H_j ≈ E_j[∇²V] - Σ_j⁻¹,  Σ_j ← M_j Σ_j M_j (then symmetrised).

    (The official code's elementwise ``M * Σ * M`` is not this update; it is not reproduced.)
    """
    d = cov.shape[-1]
    M = np.eye(d) - lr * 0.5 * (H + np.swapaxes(H, -1, -2))
    new = M @ cov @ M
    return 0.5 * (new + np.swapaxes(new, -1, -2))
