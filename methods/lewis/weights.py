"""ℓ∞ Lewis weights and certified overestimates (spec §2 (b)).

For Ã ∈ ℝ^{n×k} and w > 0, the generalised leverage is gᵢ(w) = ãᵢᵀ(ÃᵀWÃ)⁻¹ãᵢ.  The ℓ∞ Lewis weights
satisfy gᵢ(w) = 1 on their support (John's ellipsoid / D-optimal design), Σw = k.  An *overestimate*
is any w > 0 with gᵢ(w) ≤ 1 for all i; its size Σw is what the IRLS bounds depend on.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from methods.lewis.linalg import cholesky, gram


def homogenise(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Ã = [A, −b]: the residual Ax − b is Ãz with z = (x, 1) (spec §2 (a))."""
    return np.hstack([A, -b[:, None]])


def leverages(At: np.ndarray, w: np.ndarray) -> np.ndarray:
    """gᵢ(w) = ãᵢᵀ(ÃᵀWÃ)⁻¹ãᵢ = ‖L⁻¹ãᵢ‖² with ÃᵀWÃ = LLᵀ; Σᵢ wᵢgᵢ(w) = k (trace identity).

    L⁻¹ is formed explicitly (k × k) so that the n × k product is one GEMM.
    """
    L = cholesky(gram(At, w))
    Linv = sla.solve_triangular(L, np.eye(L.shape[0]), lower=True, check_finite=False)
    B = At @ Linv.T
    return np.einsum("ij,ij->i", B, B)


def lewis_overestimate(At: np.ndarray, iters: int = 50,
                       checkpoints: tuple[int, ...] = ()) -> tuple[np.ndarray, dict]:
    """Certified ℓ∞ Lewis-weight overestimate of Ã (spec §2 (b)).

    w⁰ = (k/n)·1;  wᵗ⁺¹ = wᵗ ∘ g(wᵗ)  (Σwᵗ = k exactly);  w̄ = mean(w¹..w^K);  c = maxᵢ gᵢ(w̄);
    w_L = c·w̄, so that maxᵢ gᵢ(w_L) = 1 exactly and Σw_L = c·k.  With ``iters = 0`` this is the
    certified *uniform* overestimate (the ablation).  Columns are rescaled to unit norm first
    (leverages are invariant under Ã → ÃR for invertible R), which only improves conditioning.

    Returns w_L and {"c", "sum_w", "iters", "curve"}; ``curve`` lists (t, c_t) for t in
    ``checkpoints`` (c_t certifies the mean of the first t iterates; costs one extra solve each).
    """
    n, k = At.shape
    norms = np.linalg.norm(At, axis=0)
    At = At / np.where(norms > 0, norms, 1.0)
    w = np.full(n, k / n)
    acc = np.zeros(n)
    curve = []
    for t in range(1, iters + 1):
        w = w * leverages(At, w)
        acc += w
        if t in checkpoints and t != iters:
            curve.append((t, float(leverages(At, acc / t).max())))
    wbar = acc / iters if iters > 0 else w
    c = float(leverages(At, wbar).max())
    if iters in checkpoints or 0 in checkpoints:
        curve.append((iters, c))
    return c * wbar, {"c": c, "sum_w": float(c * wbar.sum()), "iters": int(iters), "curve": curve}
