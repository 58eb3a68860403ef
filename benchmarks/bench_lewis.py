"""Benchmark: certified Lewis-weight IRLS vs the LP/conic baselines for ℓ∞ regression.

Prints one row per (n, method): median wall time after an untimed warm-up (BLAS pinned to one
thread), objective relative to the best found, and the IRLS solve count.  Synthetic Gaussian
instances (spec generator, m = 3 equality constraints), eps = 0.05.

    python benchmarks/bench_lewis.py [--d 30] [--n 4000 16000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from methods.lewis import baselines, irls  # noqa: E402
from methods.lewis.instances import gaussian_instance  # noqa: E402


def solvers(eps: float) -> dict:
    """name -> function (A, b, N, v) -> (x, solves or None)."""
    def irls_fn(update, init):
        def run(A, b, N, v):
            res = irls.irls_linf(A, b, irls.initial_weights(A, b, init, 50), eps, update, N, v)
            return res.x, res.n_solves
        return run

    out = {"irls-threshold (Lewis)": irls_fn("threshold", "lewis"),
           "irls-lawson (Lewis)": irls_fn("lawson", "lewis"),
           "irls-threshold (uniform)": irls_fn("threshold", "uniform"),
           "linprog-HiGHS": lambda A, b, N, v: (baselines.linprog_linf(A, b, N, v), None)}
    try:
        for s in baselines.CVXPY_SOLVERS:
            baselines.import_cvxpy(s)
            out[f"cvxpy-{s}"] = (lambda s: lambda A, b, N, v:
                                 (baselines.cvxpy_linf(A, b, N, v, s)[0], None))(s)
    except Exception as err:  # the baselines extra is optional
        print(f"(cvxpy baselines skipped: {err})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=30)
    ap.add_argument("--n", type=int, nargs="+", default=[4000, 16000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eps", type=float, default=0.05)
    args = ap.parse_args()
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(1)
    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info())
    print(f"l_inf regression, synthetic Gaussian, d={args.d}, m=3, eps={args.eps}; "
          f"BLAS 1 thread ({blas}); median of {args.repeats} after a warm-up")
    print(f"{'n':>7}  {'method':<26} {'time [s]':>9} {'vs IRLS':>8} {'obj/best':>9} {'solves':>7}")
    fns = solvers(args.eps)
    for n in args.n:
        A, b, N, v = gaussian_instance(np.random.default_rng(0), n, args.d, 3,
                                       x_scale=np.sqrt(args.d))
        rows = []
        for name, fn in fns.items():
            k = 20 * (args.d + 1)
            fn(A[:k], b[:k], N, v)                       # warm-up on the first rows
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                x, solves = fn(A, b, N, v)
                times.append(time.perf_counter() - t0)
            rows.append((name, statistics.median(times), float(np.abs(A @ x - b).max()), solves))
        best = min(r[2] for r in rows)
        t_irls = rows[0][1]
        for name, t, obj, solves in rows:
            print(f"{n:>7}  {name:<26} {t:>9.3f} {t / t_irls:>7.1f}x {obj / best:>9.4f} "
                  f"{solves if solves is not None else '':>7}")


if __name__ == "__main__":
    main()
