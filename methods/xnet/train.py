"""Training loops shared by the function and PINN methods (full batch, float64)."""
from __future__ import annotations

import time
from typing import Callable, Iterable

import torch

from runner.api import UserError

GRID_UPDATE_EVERY = 5  # steps between KAN grid updates (pykan: 10 updates in the first 50 steps)


def fit_adam(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor], steps: int, lr: float,
             schedule: str = "cosine", grid_points: torch.Tensor | None = None, grid_updates: int = 0,
             log_every: int = 100, progress: Callable[[Iterable, int, str], Iterable] | None = None,
             ) -> tuple[list[tuple[int, float]], float]:
    """Full-batch Adam with learning rate lr·½(1 + cos(π t/T)) (``cosine``) or constant.

    KAN models get their grid refitted to ``grid_points`` at steps 0, 5, … (``grid_updates``
    times).  Returns the loss history [(step, loss)] every ``log_every`` steps (and the last) and
    the wall-clock seconds spent in the steps.
    """
    if schedule not in ("cosine", "constant"):
        raise UserError(f"method.schedule must be cosine or constant, got {schedule!r}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if schedule == "cosine" else None
    history: list[tuple[int, float]] = []
    it = range(steps) if progress is None else progress(range(steps), steps, "adam")
    seconds = 0.0
    for step in it:
        if grid_points is not None and hasattr(model, "update_grid") and step < grid_updates * GRID_UPDATE_EVERY \
                and step % GRID_UPDATE_EVERY == 0:
            model.update_grid(grid_points)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        seconds += time.perf_counter() - t0
        if step % log_every == 0 or step == steps - 1:
            history.append((step, loss.item()))
    return history, seconds


def fit_lbfgs(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor], steps: int, start: int = 0,
              log_every: int = 10) -> tuple[list[tuple[int, float]], float]:
    """``steps`` L-BFGS iterations (strong-Wolfe line search, history 50) in one optimiser call.

    Returns the loss at every ``log_every``-th function evaluation (numbered from ``start``) and
    the wall-clock seconds.
    """
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=steps, history_size=50,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-14, tolerance_change=0.0)
    losses: list[float] = []

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        return loss

    t0 = time.perf_counter()
    if steps > 0:
        opt.step(closure)
    seconds = time.perf_counter() - t0
    history = [(start + i, v) for i, v in enumerate(losses) if i % log_every == 0 or i == len(losses) - 1]
    return history, seconds
