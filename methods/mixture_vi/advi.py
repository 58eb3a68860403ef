"""Mean-field ADVI (Kucukelbir et al. 2017): q = N(μ, diag(e^{2ω})), reparameterised gradients, Adam.

-ELBO(μ, ω) = E_ξ[-log π(μ + e^ω ⊙ ξ)] - Σ ω + const, hence with x = μ + e^ω ⊙ ξ:
∇_μ = -E[∇log π(x)],   ∇_ω = -E[∇log π(x) ⊙ e^ω ⊙ ξ] - 1.
"""
from __future__ import annotations

import numpy as np


class Adam:
    """Adam (Kingma & Ba 2015) on a flat numpy parameter vector."""

    def __init__(self, shape, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.v, self.t = np.zeros(shape), np.zeros(shape), 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad * grad
        mhat = self.m / (1 - self.b1 ** self.t)
        vhat = self.v / (1 - self.b2 ** self.t)
        return params - self.lr * mhat / (np.sqrt(vhat) + self.eps)


def advi_gradients(mu: np.ndarray, omega: np.ndarray, xi: np.ndarray, score) -> tuple[np.ndarray, np.ndarray]:
    """MC gradients of -ELBO w.r.t. (μ, ω) from noise ξ of shape (B, d)."""
    sd = np.exp(omega)
    g = score(mu + sd * xi)
    return -g.mean(axis=0), -(g * sd * xi).mean(axis=0) - 1.0


def neg_elbo(mu, omega, noise, log_prob) -> float:
    """-ELBO = E_q[log q - log π] with fixed noise (KL up to log Z)."""
    d = len(mu)
    log_q = -0.5 * np.sum(noise ** 2, axis=1) - np.sum(omega) - 0.5 * d * np.log(2 * np.pi)
    return float(np.mean(log_q - log_prob(mu + np.exp(omega) * noise)))
