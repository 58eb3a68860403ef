"""Time per training step of XNet vs KAN vs MLP at matched parameter counts (paper: XNet is as
cheap as an MLP and much cheaper than a KAN).

Two workloads, full batch, float64, one torch thread, Adam:
  * function fit: 1000 points in 1-D (the Heaviside grid), MSE loss;
  * PINN: the Poisson loss on the 21×21 collocation grid + 84 boundary points (second
    derivatives by autograd).
Each row reports the median over repeats of the wall time of one step (forward, backward, Adam).
Run: python benchmarks/bench_xnet.py   (timings depend on the machine's load)
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from methods.xnet.models import arch_label, build_model, n_params  # noqa: E402
from methods.xnet.pde import collocation, pinn_loss  # noqa: E402

FUNCTION_MODELS = [("xnet", [64], {}), ("mlp", [128], {"activation": "relu"}), ("mlp", [19, 19], {"activation": "relu"}),
                   ("kan", [], {"grid": 381}), ("kan", [4], {"grid": 44})]
PINN_MODELS = [("xnet", [20], {}), ("mlp", [35], {"activation": "tanh"}), ("mlp", [10, 10], {"activation": "tanh"}),
               ("kan", [5], {"grid": 5}), ("kan", [10], {"grid": 5})]


def time_step(model: torch.nn.Module, loss_fn, steps: int, repeats: int = 5) -> float:
    """Median seconds per Adam step over ``repeats`` blocks of ``steps`` steps (after a warm-up)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()

    for _ in range(3):
        step()
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        blocks.append((time.perf_counter() - t0) / steps)
    return statistics.median(blocks)


def main() -> None:
    torch.set_num_threads(1)
    x = torch.linspace(-1, 1, 1000, dtype=torch.float64)[:, None]
    y = (x > 0).to(torch.float64)
    points = collocation("poisson", 21)
    print(f"{'workload':<10} {'model':<24} {'params':>7} {'ms/step':>9} {'vs XNet':>8}")
    for workload, models, n_in, steps in (("function", FUNCTION_MODELS, 1, 40), ("pinn", PINN_MODELS, 2, 8)):
        base = None
        for arch, hidden, kw in models:
            model = build_model(arch, n_in, hidden, 1, **kw)
            if workload == "function":
                def loss_fn(m=model):
                    return (m(x) - y).pow(2).mean()
            else:
                def loss_fn(m=model):
                    return pinn_loss("poisson", lambda z: m(z)[:, 0], points)
            sec = time_step(model, loss_fn, steps)
            base = base or sec
            label = arch_label(arch, n_in, hidden, 1, kw.get("grid", 5))
            print(f"{workload:<10} {label:<24} {n_params(model):>7} {1e3 * sec:>9.3f} {sec / base:>7.2f}x", flush=True)


if __name__ == "__main__":
    main()
