"""The spec's synthetic ℓ∞-regression / QSC instances (spec §4; all synthetic, seeded).

Each generator returns (A, b, N, v) with A ∈ ℝ^{n×d}, N ∈ ℝ^{m×d}, v = N x₁ (always consistent).
b = A x₀ + noise with N(0,1) noise, so that OPT > 0 (the relative criteria divide by OPT).
"""
from __future__ import annotations

import numpy as np

KINDS = ("gaussian", "heavy", "duplicated")


def constraints(rng: np.random.Generator, m: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """N ~ N(0,1)^{m×d} and v = N x₁ with x₁ ~ N(0, I)."""
    N = rng.standard_normal((m, d))
    return N, N @ rng.standard_normal(d)


def gaussian_instance(rng: np.random.Generator, n: int, d: int, m: int = 3, heavy: bool = False,
                      x_scale: float = 1.0):
    """A ~ N(0,1)^{n×d}; ``heavy`` multiplies each row by exp(1.5·N(0,1)); b = A x₀ + N(0,1).

    x₀ ~ N(0, x_scale²/d · I) (x_scale = √d gives the spec's x₀ ~ N(0, I)).
    """
    A = rng.standard_normal((n, d))
    if heavy:
        A *= np.exp(1.5 * rng.standard_normal(n))[:, None]
    x0 = rng.standard_normal(d) * x_scale / np.sqrt(d)
    b = A @ x0 + rng.standard_normal(n)
    return (A, b, *constraints(rng, m, d))


def duplicated_instance(rng: np.random.Generator, n: int, d: int, m: int = 3):
    """2d distinct Gaussian rows, each repeated r = (n − d) // (2d) times with 1e-3 jitter, plus
    d rare rows at 5× scale with |b| = 20 (random signs): where Lewis weights differ most from
    uniform.  The returned n is 2d·r + d ≤ n (rows are shuffled).
    """
    r = max(1, (n - d) // (2 * d))
    base = rng.standard_normal((2 * d, d))
    common = np.repeat(base, r, axis=0) + 1e-3 * rng.standard_normal((2 * d * r, d))
    x0 = rng.standard_normal(d)
    b_common = common @ x0 + rng.standard_normal(len(common))
    rare = 5.0 * rng.standard_normal((d, d))
    b_rare = 20.0 * rng.choice([-1.0, 1.0], size=d)
    A = np.vstack([common, rare])
    b = np.concatenate([b_common, b_rare])
    perm = rng.permutation(len(A))
    return (A[perm], b[perm], *constraints(rng, m, d))


def make_instance(kind: str, rng: np.random.Generator, n: int, d: int, m: int = 3,
                  x_scale: float | None = None):
    """Dispatch on ``kind`` in KINDS (x_scale only for gaussian/heavy; default √d, the spec's)."""
    if kind == "duplicated":
        return duplicated_instance(rng, n, d, m)
    xs = np.sqrt(d) if x_scale is None else x_scale
    return gaussian_instance(rng, n, d, m, heavy=(kind == "heavy"), x_scale=xs)
