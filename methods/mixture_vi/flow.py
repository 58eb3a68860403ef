"""Small RealNVP normalising flow trained by reverse KL (the paper's NF baseline), in torch.

x = f(z), z ~ N(0, I); each affine coupling keeps the masked half x_a = z_a and maps the rest as
x_b = z_b ⊙ exp(s(z_a)) + t(z_a), log|det ∂f/∂z| = Σ s(z_a).  s and t are one-hidden-layer MLPs
(width ``hidden``, tanh); the last layers start at zero, so the initial flow is the identity.
Reverse KL(q‖π) = E_z[log N(z) - log|det| - log π(f(z))]; its gradient needs only the score of π:
the surrogate  -log|det| - f(z)·stopgrad(∇log π(f(z)))  has the same parameter gradient.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

LOG_2PI = float(np.log(2.0 * np.pi))


class Coupling(nn.Module):
    def __init__(self, mask: torch.Tensor, hidden: int):
        super().__init__()
        d = len(mask)
        self.register_buffer("mask", mask)
        self.s = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, d))
        self.t = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, d))
        for net in (self.s, self.t):
            nn.init.zeros_(net[2].weight)
            nn.init.zeros_(net[2].bias)

    def forward(self, z):
        za = z * self.mask
        s = self.s(za) * (1 - self.mask)
        x = za + (1 - self.mask) * (z * torch.exp(s) + self.t(za))
        return x, s.sum(-1)

    def inverse(self, x):
        xa = x * self.mask
        s = self.s(xa) * (1 - self.mask)
        z = xa + (1 - self.mask) * (x - self.t(xa)) * torch.exp(-s)
        return z, -s.sum(-1)


class RealNVP(nn.Module):
    """``n_layers`` couplings with alternating parity masks."""

    def __init__(self, d: int, n_layers: int, hidden: int):
        super().__init__()
        parity = torch.arange(d) % 2
        masks = [(parity if k % 2 == 0 else 1 - parity).double() for k in range(n_layers)]
        if d == 1:
            raise ValueError("RealNVP needs d >= 2")
        self.layers = nn.ModuleList([Coupling(m, hidden) for m in masks])
        self.d = d

    def forward(self, z):
        """x = f(z) and log q(x) = log N(z) - log|det ∂f/∂z|."""
        logq = -0.5 * (z * z).sum(-1) - 0.5 * self.d * LOG_2PI
        x = z
        for layer in self.layers:
            x, ld = layer(x)
            logq = logq - ld
        return x, logq

    def log_prob(self, x):
        """log q(x) through the inverse map."""
        ld_total = torch.zeros(x.shape[0], dtype=x.dtype)
        z = x
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            ld_total = ld_total + ld
        return -0.5 * (z * z).sum(-1) - 0.5 * self.d * LOG_2PI + ld_total

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def surrogate_loss(flow: RealNVP, z: torch.Tensor, score) -> torch.Tensor:
    """Reverse-KL surrogate with the gradient of KL(q‖π): mean[log q(x) - x·∇log π(x)|_{stopgrad}]."""
    x, logq = flow(z)
    g = torch.from_numpy(score(x.detach().numpy()))
    return (logq - (x * g).sum(-1)).mean()


def flow_kl(flow: RealNVP, z: torch.Tensor, log_prob) -> float:
    """MC KL(q‖π) on fixed base noise z (common random numbers)."""
    with torch.no_grad():
        x, logq = flow(z)
    return float(np.mean(logq.numpy() - log_prob(x.numpy())))
