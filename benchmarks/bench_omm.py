"""Benchmark: cost of one optimisation step of each OMM / LoRA objective.

Prints the median wall time (ms) of one step, after an untimed warm-up, with one torch thread:
(a) matrix level: full-batch gradient descent on V in R^{200 x 10} (synthetic A, float64);
(b) network level: one Adam step of a 3 x 128 ReLU MLP on the four-rooms grid world, k = 11,
    with the full-batch and the sampled (1024 transitions) estimators.

    python benchmarks/bench_omm.py [--repeats 5] [--steps 100]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from methods.omm.datasets import GridWorld, PSDMatrix  # noqa: E402
from methods.omm.objectives import OBJECTIVES  # noqa: E402
from methods.omm.training import make_mlp, solve_matrix, train_network  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = PSDMatrix()
    A = ds.matrix()
    V0 = np.random.default_rng(0).standard_normal((200, 10)) / np.sqrt(200)
    grid = GridWorld()
    full = grid.full_batch()
    rng = np.random.default_rng(0)
    print(f"{'objective':10s} {'matrix GD':>10s} {'net full':>10s} {'net 1024':>10s}   (ms per step)")
    for kind in OBJECTIVES:
        mat = median_ms(lambda: solve_matrix(kind, A, V0, args.steps, step=0.1), args.repeats) / args.steps
        row = [mat]
        for batch in (lambda t: full, lambda t: grid.sample_batch(rng, 1024)):
            net = make_mlp(2, 11, 128, 3, "relu", 0)
            row.append(median_ms(lambda: train_network(kind, net, batch, args.steps), args.repeats) / args.steps)
        print(f"{kind:10s} " + " ".join(f"{v:10.3f}" for v in row))


if __name__ == "__main__":
    main()
