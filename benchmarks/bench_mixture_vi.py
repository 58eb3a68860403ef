"""Time per iteration vs dimension d of isotropic IBW and full-covariance BW (``make bench``).

One iteration = Monte Carlo Stein statistics (N = 15 components, B = 10 samples each) on a SYNTHETIC
5-component Gaussian-mixture target in d dimensions plus the parameter update, called directly
(no engine), always from the initial parameters, one BLAS thread, median over iterations after a warm-up.  Also prints the parameter
counts N(d+1) and N(d²+d).  Timings on a shared machine are inflated by its load.

    python benchmarks/bench_mixture_vi.py [--dims 5 10 20 50 100 200] [--iters 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from methods.mixture_vi.fit import FullMixture, IsoMixture, step  # noqa: E402
from methods.mixture_vi.targets import random_mixture  # noqa: E402


def time_per_iter(algo: str, d: int, iters: int, n: int = 15, b: int = 10) -> float:
    rng = np.random.default_rng(0)
    target = random_mixture(d, 5, 10.0, 5.0, "diag", rng)
    means = rng.uniform(-10, 10, (n, d))
    fam = FullMixture(means, np.stack([10 * np.eye(d)] * n)) if algo == "bw" else IsoMixture(means, np.full(n, 10.0))
    times = []
    for it in range(iters + 3):
        xi = rng.standard_normal((b, d))
        t0 = time.perf_counter()
        step(algo, fam, target, xi, 1e-2)          # always from the same parameters: cost only
        if it >= 3:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=int, nargs="+", default=[5, 10, 20, 50, 100, 200])
    p.add_argument("--iters", type=int, default=30)
    args = p.parse_args()
    print(f"{'d':>5} {'IBW ms/iter':>12} {'BW ms/iter':>12} {'BW/IBW':>8} {'IBW params':>11} {'BW params':>10}")
    with threadpool_limits(1):
        for d in args.dims:
            t_ibw, t_bw = time_per_iter("ibw", d, args.iters), time_per_iter("bw", d, args.iters)
            print(f"{d:>5} {1e3 * t_ibw:>12.3f} {1e3 * t_bw:>12.3f} {t_bw / t_ibw:>8.1f} {15 * (d + 1):>11} "
                  f"{15 * (d * d + d):>10}")


if __name__ == "__main__":
    main()
