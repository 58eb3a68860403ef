"""A B-spline Kolmogorov–Arnold network (efficient-kan style, written from the definitions).

Each edge (i → o) computes φ_oi(x) = w_b·silu(x) + Σ_c c_oic·B_c(x), where the B_c are the
order-k B-splines on a uniform grid of G intervals over [lo, hi], extended by k knots on each
side (G + 2k + 1 knots, G + k basis functions).  A layer sums its edges: y_o = Σ_i φ_oi(x_i).
Inputs outside [lo, hi] get (partially) zero spline bases; ``update_grid`` moves the grid onto
the range of the data and refits the coefficients by least squares so the function is kept.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def uniform_knots(grid: int, k: int, lo: float = -1.0, hi: float = 1.0) -> torch.Tensor:
    """Knots t_j = lo + (j − k)·h, j = 0 … G + 2k, with h = (hi − lo)/G."""
    h = (hi - lo) / grid
    return lo + h * torch.arange(-k, grid + k + 1, dtype=torch.float64)


def bspline_basis(x: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """Order-k B-spline bases by the Cox–de Boor recursion.

    B_{j,0}(x) = 1[t_j ≤ x < t_{j+1}],
    B_{j,p}(x) = (x − t_j)/(t_{j+p} − t_j)·B_{j,p−1}(x) + (t_{j+p+1} − x)/(t_{j+p+1} − t_{j+1})·B_{j+1,p−1}(x).

    x: (n, m); knots: (m, K) (one knot vector per input); returns (n, m, K − 1 − k).
    On [t_k, t_{K−1−k}] the bases sum to one (partition of unity).
    """
    x = x.unsqueeze(-1)
    t = knots.unsqueeze(0)
    basis = ((x >= t[..., :-1]) & (x < t[..., 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left = (x - t[..., :-(p + 1)]) / (t[..., p:-1] - t[..., :-(p + 1)]) * basis[..., :-1]
        right = (t[..., p + 1:] - x) / (t[..., p + 1:] - t[..., 1:-p]) * basis[..., 1:]
        basis = left + right
    return basis


def lstsq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """argmin_z ‖a z − b‖² (minimum-norm when rank-deficient), batched over leading axes."""
    return torch.linalg.lstsq(a, b, driver="gelsd").solution


def spline_1d(x: torch.Tensor, coef: torch.Tensor, grid: int, k: int, lo: float = -1.0,
              hi: float = 1.0) -> torch.Tensor:
    """Σ_c coef_c·B_c(x) for 1-D inputs x (shape (n,)) on the uniform G-interval grid of [lo, hi]."""
    knots = uniform_knots(grid, k, lo, hi).to(x)
    return bspline_basis(x.reshape(-1, 1), knots.unsqueeze(0), k)[:, 0, :] @ coef


def spline_lstsq_coef(x: torch.Tensor, y: torch.Tensor, grid: int, k: int, lo: float = -1.0,
                      hi: float = 1.0) -> torch.Tensor:
    """argmin_c Σ_i (Σ_c c_c·B_c(x_i) − y_i)²: the least-squares spline fit of 1-D data, the
    optimum a KAN [1,1] spline edge can reach (the spec's oracle).  Returns the G + k coefficients."""
    knots = uniform_knots(grid, k, lo, hi).to(x)
    a = bspline_basis(x.reshape(-1, 1), knots.unsqueeze(0), k)[:, 0, :]
    return lstsq(a, y.reshape(-1, 1))[:, 0]


class KANLayer(nn.Module):
    """n_in → n_out KAN layer: y_o = Σ_i [w_b,oi·silu(x_i) + Σ_c c_oic·B_c(x_i)]."""

    def __init__(self, n_in: int, n_out: int, grid: int = 5, k: int = 3,
                 grid_range: tuple[float, float] = (-1.0, 1.0), noise: float = 0.1):
        super().__init__()
        self.grid, self.k = grid, k
        knots = uniform_knots(grid, k, *grid_range)
        self.register_buffer("knots", knots.expand(n_in, -1).clone())
        bound = 1.0 / math.sqrt(n_in)
        self.base_weight = nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.spline_weight = nn.Parameter(torch.randn(n_out, n_in, grid + k) * noise * bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        basis = bspline_basis(x, self.knots, self.k)
        spline = basis.reshape(len(x), -1) @ self.spline_weight.reshape(len(self.spline_weight), -1).T
        return F.silu(x) @ self.base_weight.T + spline

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, margin: float = 0.01) -> None:
        """Put a uniform grid over [min x_i − m, max x_i + m] per input and refit the splines.

        The new coefficients solve, per input i, min ‖B_new(x_i) c − s_i(x_i)‖² where s_i are the
        current spline outputs of the edges leaving i, so the layer's function is preserved.
        """
        old = bspline_basis(x, self.knots, self.k)                       # (n, i, c)
        values = torch.einsum("nic,oic->ino", old, self.spline_weight)   # (i, n, o)
        lo, hi = x.min(0).values, x.max(0).values
        span = (hi - lo).clamp_min(1e-6)
        lo, hi = lo - margin * span, hi + margin * span
        steps = torch.arange(-self.k, self.grid + self.k + 1, dtype=x.dtype)
        knots = lo[:, None] + (hi - lo)[:, None] / self.grid * steps[None, :]
        new = bspline_basis(x, knots, self.k).permute(1, 0, 2)           # (i, n, c)
        self.knots.copy_(knots)
        self.spline_weight.copy_(lstsq(new, values).permute(2, 0, 1))


class KAN(nn.Module):
    """KAN [n_in, *hidden, n_out]; ``hidden = []`` gives the single-edge KAN [1,1]."""

    def __init__(self, n_in: int, hidden: list[int], n_out: int, grid: int = 5, k: int = 3,
                 grid_range: tuple[float, float] = (-1.0, 1.0)):
        super().__init__()
        widths = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(KANLayer(a, b, grid, k, grid_range)
                                    for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor) -> None:
        """Fit every layer's grid to the activations it sees on ``x`` (layer by layer)."""
        for layer in self.layers:
            layer.update_grid(x)
            x = layer(x)
