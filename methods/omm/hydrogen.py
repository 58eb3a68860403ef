"""The 2-D hydrogen operator of E5 (spec sections 2.4 and 3.2; numpy, float64).

Operator.  ``H = -lap - 1/|x|`` on ``L^2(R^2)`` (Lebesgue); the target is ``T = scale * (-H) + shift * I``
(spec 2.4: "operator wrapper T <- scale T + shift I"; the paper uses scale 100, shift 0).

Closed-form bound states (derived here; checked numerically in ``tests/omm/test_omm_hydrogen.py``).
In polar coordinates ``psi = R(r) Theta(theta)`` with ``Theta in {1, cos(m theta), sin(m theta)}``,
``-H psi = lambda psi`` becomes ``R'' + R'/r - m^2 R / r^2 + R / r = kappa^2 R`` with ``lambda = kappa^2``.
The ansatz ``R = r^|m| exp(-kappa r) L(2 kappa r)`` turns it into Laguerre's equation
``s L'' + (2|m| + 1 - s) L' + (1 / (2 kappa) - |m| - 1/2) L = 0`` (``s = 2 kappa r``), whose polynomial
solutions need ``1/(2 kappa) - |m| - 1/2 = p`` in ``{0, 1, ...}``, i.e. ``kappa = 1 / (2n + 1)`` with
``n = p + |m|``.  Hence, for ``n >= 0`` and ``|m| <= n``:

    lambda_n   = (2n + 1)^-2                       (degeneracy 2n + 1: m = 0, and cos/sin for 1 <= m <= n)
    psi_nm     = N_nm r^|m| exp(-kappa_n r) L^(2|m|)_(n-|m|)(2 kappa_n r) Theta_m(theta),  kappa_n = 1/(2n+1)
    N_nm^-2    = c_m (2 kappa_n)^-(2|m|+2) (2n + 1) Gamma(n + |m| + 1) / Gamma(n - |m| + 1),

where ``c_m = 2 pi`` (m = 0) or ``pi`` (m > 0) is ``int Theta_m^2 dtheta`` and the radial factor uses
``int_0^inf s^(a+1) e^-s [L^(a)_p(s)]^2 ds = (2p + a + 1) Gamma(p + a + 1) / p!``.

Importance sampling (spec 2.4).  Samples come from ``rho = N(0, sigma^2 I_2)``; the network ``f`` lives
in ``L^2(rho)`` and represents ``psi = sqrt(rho) f``.  The unitarily transformed operator

    (T_rho f)(x) = rho(x)^-1/2 (T (rho^1/2 f))(x)

satisfies ``<f_i, T_rho f_j>_rho = int psi_i (T psi_j) dx``; its eigenfunctions are ``psi / sqrt(rho)``.
The Laplacian of ``g = sqrt(rho) f`` is the 5-point finite difference with step ``eps`` (0.01), and the
division by ``sqrt(rho)`` uses ``max(sqrt(rho), clamp)`` (clamp 1e-5), as in the NeuralSVD code.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import eval_genlaguerre, gammaln

# ---------------------------------------------------------------------------------------------
# closed-form eigenpairs


def hydrogen_modes(k: int) -> list[tuple[int, int, str]]:
    """The first ``k`` bound states as ``(n, m, kind)``, ordered by shell ``n`` then ``m``
    (``kind`` is ``"c"`` for ``cos(m theta)`` (m = 0: constant) or ``"s"`` for ``sin(m theta)``)."""
    out: list[tuple[int, int, str]] = []
    n = 0
    while len(out) < k:
        out.append((n, 0, "c"))
        for m in range(1, n + 1):
            out += [(n, m, "c"), (n, m, "s")]
        n += 1
    return out[:k]


def hydrogen_eigenvalues(modes: list[tuple[int, int, str]]) -> np.ndarray:
    """``lambda_n = (2n + 1)^-2``: eigenvalues of ``-H = lap + 1/|x|`` for each mode."""
    return np.array([1.0 / (2 * n + 1) ** 2 for n, _, _ in modes])


def hydrogen_psi(X: np.ndarray, modes: list[tuple[int, int, str]]) -> np.ndarray:
    """``Psi[:, j] = psi_{n m}(x)`` (unit norm in Lebesgue ``L^2(R^2)``; formula in the module docstring)."""
    X = np.atleast_2d(np.asarray(X, np.float64))
    r = np.hypot(X[:, 0], X[:, 1])
    th = np.arctan2(X[:, 1], X[:, 0])
    out = np.empty((len(X), len(modes)))
    for j, (n, m, kind) in enumerate(modes):
        kap = 1.0 / (2 * n + 1)
        log_norm2 = (math.log(2 * math.pi if m == 0 else math.pi) - (2 * m + 2) * math.log(2 * kap)
                     + math.log(2 * n + 1) + gammaln(n + m + 1) - gammaln(n - m + 1))
        radial = r ** m * np.exp(-kap * r) * eval_genlaguerre(n - m, 2 * m, 2 * kap * r)
        ang = np.cos(m * th) if kind == "c" else np.sin(m * th)
        out[:, j] = radial * ang * math.exp(-0.5 * log_norm2)
    return out


# ---------------------------------------------------------------------------------------------
# sampling density and the transformed operator


def sqrt_density(X: np.ndarray, sigma: float) -> np.ndarray:
    """``sqrt(rho(x))`` for ``rho = N(0, sigma^2 I_2)``: ``exp(-|x|^2 / (4 sigma^2)) / sqrt(2 pi sigma^2)``."""
    X = np.asarray(X, np.float64)
    return np.exp(-(X * X).sum(1) / (4 * sigma * sigma)) / math.sqrt(2 * math.pi * sigma * sigma)


def stencil(X: np.ndarray, eps: float, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The 5-point stencil of each row of X: ``P[:, 0] = x``, ``P[:, 1:] = x +- eps e_j`` (j = 1, 2),
    shape ``(n, 5, 2)``, rounded to ``dtype`` (the precision the network sees), and the actual signed
    offsets ``h`` (n, 4) of the neighbours along their axis after rounding."""
    X = np.asarray(X, dtype).astype(np.float64)
    P = np.repeat(X[:, None, :], 5, axis=1)
    for s, (j, sgn) in enumerate(((0, 1), (0, -1), (1, 1), (1, -1))):
        P[:, s + 1, j] += sgn * eps
    P = P.astype(dtype).astype(np.float64)
    h = np.stack([P[:, 1, 0] - P[:, 0, 0], P[:, 2, 0] - P[:, 0, 0],
                  P[:, 3, 1] - P[:, 0, 1], P[:, 4, 1] - P[:, 0, 1]], 1)
    return P, h


def laplacian_weights(h: np.ndarray) -> np.ndarray:
    """Weights ``a`` (n, 5) with ``lap g(x) ~= sum_s a_s g(P_s)`` for the stencil of :func:`stencil`.

    Per axis, with forward step ``hp > 0`` and backward step ``hm > 0`` (equal to ``eps`` up to the
    rounding of the points), the three-point second difference exact for quadratics:
    ``g'' ~= 2 [hm g(x + hp) + hp g(x - hm) - (hp + hm) g(x)] / (hp hm (hp + hm))``
    (``= [g(x + eps) + g(x - eps) - 2 g(x)] / eps^2`` when ``hp = hm = eps``).
    """
    a = np.zeros((len(h), 5))
    for ax in range(2):
        hp, hm = h[:, 2 * ax], -h[:, 2 * ax + 1]
        den = hp * hm * (hp + hm)
        a[:, 1 + 2 * ax] = 2 * hm / den
        a[:, 2 + 2 * ax] = 2 * hp / den
        a[:, 0] -= 2 * (hp + hm) / den
    return a


def transformed_weights(X: np.ndarray, eps: float = 0.01, sigma: float = 4.0, scale: float = 100.0,
                        clamp: float = 1e-5, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Stencil points ``P`` (n, 5, 2) and weights ``c`` (n, 5) with ``(T_rho f)(x) ~= sum_s c_s f(P_s)``
    for ``T = scale * (lap + 1/|x|)`` (no shift):

        (T_rho f)(x) = scale * [lap_eps(sqrt(rho) f)(x) + sqrt(rho(x)) f(x) / |x|] / max(sqrt(rho(x)), clamp)

    so ``c_s = scale * a_s sqrt(rho(P_s)) / max(sqrt(rho(x)), clamp)`` plus, at the centre,
    ``scale * sqrt(rho(x)) / (|x| max(sqrt(rho(x)), clamp))``.
    """
    P, h = stencil(X, eps, dtype)
    s = sqrt_density(P.reshape(-1, 2), sigma).reshape(len(P), 5)
    den = np.maximum(s[:, 0], clamp)
    c = laplacian_weights(h) * s / den[:, None]
    c[:, 0] += s[:, 0] / (np.hypot(P[:, 0, 0], P[:, 0, 1]) * den)
    return P, scale * c


def apply_weights(Fs: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(T_rho F)(x_b) = sum_s c_bs F(P_bs)`` in the cancellation-free form
    ``(sum_s c_bs) F(x_b) + sum_{s>0} c_bs (F(P_bs) - F(x_b))`` (Fs: values at the stencil, (n, 5, k))."""
    Fs = np.asarray(Fs, np.float64)
    centre = Fs[:, 0, :]
    return c.sum(1)[:, None] * centre + np.einsum("ns,nsk->nk", c[:, 1:], Fs[:, 1:, :] - centre[:, None, :])
