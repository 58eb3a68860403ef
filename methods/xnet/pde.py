"""Physics-informed problems on 2-D domains (all synthetic, exact solutions known).

* ``poisson``: Δu = −2π² sin(πx) sin(πy) on [−1, 1]², u = 0 on the boundary;
  exact u = sin(πx) sin(πy).
* ``heat``: u_t = u_xx for (x, t) ∈ [−1, 1] × [0, 1], u(±1, t) = 0, u(x, 0) = sin(πx);
  exact u = exp(−π² t) sin(πx).

The PINN loss is mean(residual²) + mean((u − g)²) over each condition set (boundary; for heat
also the initial line).  Derivatives are autograd derivatives with ``create_graph=True`` so the
loss can be differentiated again with respect to the parameters.
"""
from __future__ import annotations

import math

import torch

from runner.api import Dataset, check

PDES = ("poisson", "heat")
DOMAINS = {"poisson": ((-1.0, 1.0), (-1.0, 1.0)), "heat": ((-1.0, 1.0), (0.0, 1.0))}


def exact_solution(pde: str, z: torch.Tensor) -> torch.Tensor:
    """sin(πx) sin(πy) (poisson) or exp(−π² t) sin(πx) (heat), z = (x, y|t), shape (n,)."""
    if pde == "poisson":
        return torch.sin(math.pi * z[:, 0]) * torch.sin(math.pi * z[:, 1])
    return torch.exp(-math.pi ** 2 * z[:, 1]) * torch.sin(math.pi * z[:, 0])


def _grad(out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """∂(Σ out)/∂z with the graph kept (so higher derivatives and parameter gradients work)."""
    return torch.autograd.grad(out.sum(), z, create_graph=True)[0]


def residual(pde: str, u_fn, z: torch.Tensor) -> torch.Tensor:
    """The PDE residual at z: u_xx + u_yy + 2π² sin(πx) sin(πy) (poisson) or u_t − u_xx (heat).

    ``u_fn`` maps (n, 2) → (n,); each second derivative is taken per coordinate.
    """
    z = z.detach().requires_grad_(True)
    u = u_fn(z)
    g = _grad(u, z)
    u_xx = _grad(g[:, 0], z)[:, 0]
    if pde == "poisson":
        u_yy = _grad(g[:, 1], z)[:, 1]
        f = -2 * math.pi ** 2 * torch.sin(math.pi * z[:, 0]) * torch.sin(math.pi * z[:, 1])
        return u_xx + u_yy - f
    return g[:, 1] - u_xx


def collocation(pde: str, n: int) -> dict:
    """The pykan PDE template's points: an n×n grid (edges included) for the residual, n points
    per boundary side, and for heat n points on the initial line t = 0.

    Returns {"interior": (n², 2), "conditions": [(z, g), ...]} with g the prescribed values.
    """
    (x0, x1), (y0, y1) = DOMAINS[pde]
    xs = torch.linspace(x0, x1, n, dtype=torch.float64)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    interior = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    if pde == "poisson":
        sides = [torch.stack([torch.full_like(ys, x0), ys], 1), torch.stack([torch.full_like(ys, x1), ys], 1),
                 torch.stack([xs, torch.full_like(xs, y0)], 1), torch.stack([xs, torch.full_like(xs, y1)], 1)]
        boundary = torch.cat(sides)
        return {"interior": interior, "conditions": [(boundary, torch.zeros(len(boundary), dtype=torch.float64))]}
    boundary = torch.cat([torch.stack([torch.full_like(ys, x0), ys], 1), torch.stack([torch.full_like(ys, x1), ys], 1)])
    initial = torch.stack([xs, torch.zeros_like(xs)], 1)
    return {"interior": interior,
            "conditions": [(boundary, torch.zeros(len(boundary), dtype=torch.float64)),
                           (initial, torch.sin(math.pi * xs))]}


def pinn_loss(pde: str, u_fn, points: dict) -> torch.Tensor:
    """mean(residual²) over the interior + Σ over condition sets of mean((u − g)²)."""
    loss = residual(pde, u_fn, points["interior"]).pow(2).mean()
    for z, g in points["conditions"]:
        loss = loss + (u_fn(z) - g).pow(2).mean()
    return loss


def eval_grid(pde: str, n: int) -> torch.Tensor:
    """An n×n grid over the domain (edges included), shape (n², 2)."""
    (x0, x1), (y0, y1) = DOMAINS[pde]
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, n, dtype=torch.float64),
                            torch.linspace(y0, y1, n, dtype=torch.float64), indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


class PinnProblem(Dataset):
    """A PDE with a known solution to solve by a PINN (synthetic; nothing is loaded)."""

    task = "pde"
    provenance = "generated"

    def __init__(self, pde: str = "poisson", n_collocation: int = 21, n_test: int = 101):
        check(pde in PDES, f"dataset.pde must be one of {', '.join(PDES)}, got {pde!r}")
        check(n_collocation >= 3, f"dataset.n_collocation must be >= 3, got {n_collocation}")
        check(n_test >= 2, f"dataset.n_test must be >= 2, got {n_test}")
        self.pde, self.n_collocation, self.n_test = pde, n_collocation, n_test

    def describe(self) -> dict:
        return {**super().describe(), "pde": self.pde, "n_collocation": self.n_collocation,
                "n_test": self.n_test, "synthetic": True}
