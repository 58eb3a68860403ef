"""Solvers: the objectives of :mod:`methods.omm.objectives` minimised on a matrix V (full-batch
gradient descent or streaming Adam) or on a network's outputs (minibatch Adam)."""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable

import numpy as np
import torch

from .datasets import OpBatch
from .objectives import objective


# ---------------------------------------------------------------------------------------------
# matrix level

def matrix_factors(V: torch.Tensor, A: torch.Tensor, shift: float = 0.0, inverse: bool = False,
                   X: torch.Tensor | None = None):
    """``(metric, L, R)`` for a matrix V (see :mod:`objectives`).

    * full:    ``M[V] = V^T V``, ``M[V, AV] = V^T (A + shift I) V``;
    * stream:  ``A`` replaced by the batch covariance ``X^T X / B`` of samples ``x ~ N(0, A)``;
    * inverse: target ``A^{-1}`` with ``F = A G``: ``M[F] = G^T A^2 G``, ``M[F, A^{-1} F] = G^T A G``.
    """
    if inverse:
        F = A @ V
        return [F], F, V + shift * F
    if X is not None:
        XV = X @ V / math.sqrt(X.shape[0])
        return [V], torch.cat([XV, V]), torch.cat([XV, shift * V])
    return [V], V, A @ V + shift * V


def solve_matrix(kind: str, A: np.ndarray, V0: np.ndarray, steps: int, *, mode: str = "full",
                 step: float = 0.1, lr: float = 1e-3, batch: int = 64, shift: float = 0.0,
                 inverse: bool = False, rng: np.random.Generator | None = None,
                 diverge_norm: float = 1e3, trace_every: int = 0,
                 trace: Callable[[np.ndarray], dict] | None = None,
                 progress: Callable[[Iterable], Iterable] = iter):
    """Minimise objective ``kind`` over V in float64.

    ``mode="full"``: gradient descent ``V <- V - step * grad``; ``mode="stream"``: Adam(lr) with a
    fresh batch ``X = Z A^{1/2}`` (``Z`` standard normal, B rows) each step.  Stops early (and
    reports the step) when a column norm exceeds ``diverge_norm`` or the loss is not finite.
    Returns ``(V, rows, diverged_step)``; ``rows`` are ``trace(V)`` dicts every ``trace_every`` steps.
    """
    At = torch.from_numpy(np.asarray(A, np.float64))
    V = torch.tensor(V0, dtype=torch.float64, requires_grad=True)
    root = None
    if mode == "stream":
        lam, W = np.linalg.eigh(A)
        root = torch.from_numpy((W * np.sqrt(np.clip(lam, 0, None))) @ W.T)
        opt = torch.optim.Adam([V], lr=lr)
    rows, diverged = [], -1
    for t in progress(range(steps + 1)):
        if trace is not None and trace_every and (t % trace_every == 0 or t == steps):
            rows.append({"step": t, **trace(V.detach().numpy())})
        if t == steps:
            break
        X = None
        if root is not None:
            X = torch.from_numpy(rng.standard_normal((batch, A.shape[0]))) @ root
        loss = objective(kind, *matrix_factors(V, At, shift, inverse, X))
        if not torch.isfinite(loss) or V.detach().norm(dim=0).max() > diverge_norm:
            diverged = t
            break
        if root is None:
            (g,) = torch.autograd.grad(loss, V)
            with torch.no_grad():
                V -= step * g
        else:
            opt.zero_grad()
            loss.backward()
            opt.step()
    return V.detach().numpy().copy(), rows, diverged


# ---------------------------------------------------------------------------------------------
# network level

ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "softplus": torch.nn.Softplus, "gelu": torch.nn.GELU}


class FourierFeatures(torch.nn.Module):
    """Fixed random Fourier features ``x -> [x, cos(x B), sin(x B)]`` with ``B_ij ~ N(0, s_j^2)``:
    the ``n`` columns of B are split evenly over the scales ``s`` (multi-scale features)."""

    def __init__(self, d_in: int, n: int, scales: tuple[float, ...]):
        super().__init__()
        s = torch.tensor([scales[j * len(scales) // n] for j in range(n)], dtype=torch.float32)
        self.register_buffer("B", torch.randn(d_in, n) * s)
        self.out_dim = d_in + 2 * n

    def forward(self, x):
        z = x @ self.B
        return torch.cat([x, torch.cos(z), torch.sin(z)], -1)


def make_mlp(d_in: int, k: int, hidden: int, depth: int, activation: str, seed: int,
             fourier: int = 0, fourier_scales: tuple[float, ...] = (1.0,),
             dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """An MLP ``d_in -> hidden (x depth) -> k``, initialised from ``seed`` only; with ``fourier > 0``
    a :class:`FourierFeatures` input layer (``fourier`` frequencies) comes first."""
    layers, width = [], d_in
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if fourier > 0:
            ff = FourierFeatures(d_in, fourier, tuple(fourier_scales))
            layers.append(ff)
            width = ff.out_dim
        for _ in range(depth):
            layers += [torch.nn.Linear(width, hidden), ACTIVATIONS[activation]()]
            width = hidden
        layers.append(torch.nn.Linear(width, k))
        return torch.nn.Sequential(*layers).to(dtype)


def network_factors(F: torch.Tensor, b: OpBatch):
    """``(metric, L, R)`` from network outputs ``F = f(b.x)`` and a batch's index structure.

    ``L^T R = 1/2 (F_l^T W F_r + F_r^T W^T F_l) + shift * F_s^T F_s / |s|`` and each metric factor
    ``F_h / sqrt(|h|)`` (see :class:`methods.omm.datasets.OpBatch`).
    """
    metric = [F[i] / math.sqrt(len(i)) for i in b.metric]
    Fl, Fr = F[b.left], F[b.right]
    w = torch.as_tensor(b.w, dtype=F.dtype)
    WFr, WtFl = (w[:, None] * Fr, w[:, None] * Fl) if w.ndim == 1 else (w @ Fr, w.T @ Fl)
    L, R = torch.cat([Fl, Fr]), 0.5 * torch.cat([WFr, WtFl])
    if b.shift_idx is not None and b.shift:
        Fs = F[b.shift_idx]
        L, R = torch.cat([L, Fs]), torch.cat([R, b.shift * Fs / len(b.shift_idx)])
    return metric, L, R


def _lr_factor(t: int, n_warm: int, steps: int, schedule: str) -> float:
    """Linear warm-up to 1 over ``n_warm`` steps, then 1 (``constant``) or
    ``(1 + cos(pi (t - n_warm) / (steps - n_warm))) / 2`` (``cosine``)."""
    if t < n_warm:
        return (t + 1) / n_warm
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (t - n_warm) / max(1, steps - n_warm))))
    return 1.0


def train_network(kind: str, net: torch.nn.Module, next_batch: Callable[[int], OpBatch], steps: int, *,
                  lr: float = 1e-3, warmup: float = 0.1, max_output: float = 1e4, schedule: str = "constant",
                  ema: float = 0.0, trace_every: int = 0, trace: Callable[[torch.nn.Module], dict] | None = None,
                  progress: Callable[[Iterable], Iterable] = iter):
    """Adam(lr) with a linear warm-up over the first ``warmup`` fraction of ``steps``, then constant
    (``schedule="constant"``) or cosine decay to 0 (``"cosine"``).

    With ``ema > 0`` an exponential moving average ``theta_bar <- ema theta_bar + (1 - ema) theta`` of
    the weights is kept; ``trace`` sees it, and ``net`` holds it on return.
    Stops (diverged) when the loss is not finite or an output exceeds ``max_output`` in magnitude.
    Returns ``(rows, diverged_step)``; ``rows`` hold ``step``, the batch ``loss`` (running mean since
    the previous row) and ``trace(net)`` every ``trace_every`` steps.
    """
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    n_warm = max(1, int(warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: _lr_factor(t, n_warm, steps, schedule))
    avg = copy.deepcopy(net) if ema > 0 else net
    dtype = next(net.parameters()).dtype
    rows, diverged, acc, cnt = [], -1, 0.0, 0
    for t in progress(range(steps + 1)):
        if trace is not None and trace_every and (t % trace_every == 0 or t == steps):
            rows.append({"step": t, "loss": acc / cnt if cnt else math.nan, **trace(avg)})
            acc, cnt = 0.0, 0
        if t == steps:
            break
        b = next_batch(t)
        F = net(torch.as_tensor(b.x, dtype=dtype))
        loss = objective(kind, *network_factors(F, b))
        if not torch.isfinite(loss) or F.detach().abs().max() > max_output:
            diverged = t
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if avg is not net:
            with torch.no_grad():
                for pa, p in zip(avg.parameters(), net.parameters()):
                    pa.mul_(ema).add_(p, alpha=1 - ema)
        acc, cnt = acc + float(loss.detach()), cnt + 1
    if avg is not net:
        net.load_state_dict(avg.state_dict())
    return rows, diverged
