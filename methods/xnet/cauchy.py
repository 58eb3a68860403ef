"""The Cauchy activation and the (shallow) XNet.

φ_{λ1,λ2,d}(s) = (λ1·s + λ2) / (s² + d²), with per-neuron trainable λ1, λ2, d.  It is the real
part of one term c/(ξ − x) of a discretised Cauchy integral: with ξ = a + i·d and c = p + i·q,
Re[c/(ξ − x)] = φ(s) for s = x − a, λ1 = −p, λ2 = q·d.

XNet [m, N, out]:  s = W x + b,  h_k = φ_k(s_k),  y = V h + c.
"""
from __future__ import annotations

import torch
from torch import nn

EPS = 1e-12  # keeps s² + d² + EPS > 0 when d → 0 (the sign of d is irrelevant)


def cauchy(s: torch.Tensor, lam1: torch.Tensor, lam2: torch.Tensor, d: torch.Tensor,
           eps: float = EPS) -> torch.Tensor:
    """φ(s) = (λ1·s + λ2) / (s² + d² + ε), broadcast over the last (neuron) axis."""
    return (lam1 * s + lam2) / (s * s + (d * d + eps))


def cauchy_features(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, d: torch.Tensor,
                    eps: float = EPS) -> torch.Tensor:
    """The features [s·q, q] with s = x wᵀ + b, q = 1/(s² + d² + ε), shape (n, 2N).

    For fixed (w, b, d) an XNet with one output is linear in (λ1·V, λ2·V, c) over these features
    (plus a constant), so a least-squares solve gives its optimal output layer ("variable
    projection").
    """
    s = x @ w.T + b
    q = 1.0 / (s * s + (d * d + eps))
    return torch.cat([s * q, q], dim=1)


class CauchyLayer(nn.Module):
    """s = W x + b followed by the per-neuron Cauchy activation φ_k(s_k).

    W, b use PyTorch's Linear initialisation (U(±1/√fan_in)); λ1 = λ2 = d = 1 at init.
    """

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.lam1 = nn.Parameter(torch.ones(n_out))
        self.lam2 = nn.Parameter(torch.ones(n_out))
        self.d = nn.Parameter(torch.ones(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cauchy(self.linear(x), self.lam1, self.lam2, self.d)


class XNet(nn.Module):
    """XNet [n_in, *hidden, n_out]: Cauchy layers then a linear output layer (with bias).

    The paper's shallow XNet is ``hidden = [N]``.
    """

    def __init__(self, n_in: int, hidden: list[int], n_out: int):
        super().__init__()
        widths = [n_in, *hidden]
        self.layers = nn.Sequential(*[CauchyLayer(a, b) for a, b in zip(widths[:-1], widths[1:])])
        self.out = nn.Linear(widths[-1], n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.layers(x))
