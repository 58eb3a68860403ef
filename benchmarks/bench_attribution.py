"""Timings of the attribution core and of the engine's own overhead (``make bench``).

1. IF, RIF, NS and the exact refit on SYNTHETIC logistic data, n = 4000, d = 500 (λ = 1e-3, one
   BLAS thread as in the runs): RIF's cost over IF's is the leverage computation only.
2. Engine overhead: wall time of ``mlrun method=rif dataset=breast_cancer`` in a subprocess against
   the same Method.run called directly in this process, and their ratio.

Timings on a shared machine are inflated by its load; rerun on a quiet one for clean numbers.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from methods.attribution.influence import (Attribution, leverages, newton_step_direct,  # noqa: E402
                                           newton_step_woodbury, rescale)
from methods.attribution.logistic import fit_logistic, refit_without  # noqa: E402


def timed(fn, repeat: int = 1):
    """(result of the last call, best wall time in seconds over ``repeat`` calls)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def bench_core(n: int = 4000, d: int = 500, lam: float = 1e-3, k: int = 40, seed: int = 0) -> list[tuple[str, float]]:
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    theta_star = 3.0 * rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ theta_star))).astype(float)
    fit, t_fit = timed(lambda: fit_logistic(X, y, lam))
    theta = fit.theta
    T = np.sort(rng.choice(n, size=k, replace=False))

    def if_all():
        a = Attribution(X, y, theta, lam)
        return a, a.IF

    (att, _), t_if = timed(if_all, repeat=3)
    L = np.tril(att.chol[0])
    h, t_lev = timed(lambda: leverages(X, att.alpha, L), repeat=3)
    _, t_resc = timed(lambda: rescale(att.IF, h), repeat=3)
    _, t_eig = timed(lambda: np.linalg.eigh(att.H))
    _ = att.eig
    _, t_wood = timed(lambda: newton_step_woodbury(att, T), repeat=3)
    _, t_direct = timed(lambda: newton_step_direct(att, T), repeat=3)
    _, t_refit = timed(lambda: refit_without(X, y, lam, theta, T))
    return [
        (f"fit θ̂ (Newton, ‖∇‖ ≤ 1e-10, {fit.n_iter} iterations)", t_fit),
        ("IF: H, Cholesky, H⁻¹gᵢ for all n samples", t_if),
        ("RIF extra: leverages hᵢ (one triangular solve)", t_lev),
        ("RIF extra: rescale by 1/(1 − hᵢ)", t_resc),
        ("RIF total (IF + leverages + rescale)", t_if + t_lev + t_resc),
        ("NS: eigendecomposition of H (once per model)", t_eig),
        (f"NS per set, Woodbury (k = {k})", t_wood),
        (f"NS per set, direct d × d solve (k = {k})", t_direct),
        (f"exact refit per set (warm Newton, k = {k})", t_refit),
    ]


def bench_engine() -> list[tuple[str, float]]:
    exe = shutil.which("mlrun")
    if exe is None:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MLRUN_OUTPUTS": str(Path(tmp) / "outputs"), "MPLBACKEND": "Agg"}
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "method=rif", "dataset=breast_cancer"], cwd=tmp, env=env,
                              capture_output=True, text=True)
        t_cli = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit("mlrun method=rif dataset=breast_cancer failed")
        from hydra import compose, initialize_config_dir
        from hydra.utils import instantiate
        from omegaconf import OmegaConf

        from runner.api import RunContext
        from runner.config import conf_dir, register_resolvers

        register_resolvers()
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = compose("config", overrides=["method=rif", "dataset=breast_cancer"])
        built = []
        for node in (cfg.method, cfg.dataset):   # what the engine builds, without the engine
            params = OmegaConf.to_container(node, resolve=True)
            name = params.pop("name")
            obj = instantiate(params, _convert_="all")
            obj.name = name
            built.append(obj)
        method, dataset = built
        ctx = RunContext(Path(tmp) / "direct", seed=0, show_progress=False)
        _, t_cold = timed(lambda: method.run(dataset, ctx))        # first call: lazy imports too
        _, t_warm = timed(lambda: method.run(dataset, ctx), repeat=2)
    return [("mlrun method=rif dataset=breast_cancer (subprocess, wall)", t_cli),
            ("same Method.run in-process, first call (incl. lazy imports)", t_cold),
            ("same Method.run in-process, warm (best of 2)", t_warm),
            ("engine overhead (subprocess − first in-process call)", t_cli - t_cold)], t_cli / t_cold


def main() -> None:
    with threadpool_limits(limits=1, user_api="blas"):
        core = bench_core()
    t_if = core[1][1]
    t_rif = core[4][1]
    print("attribution core, SYNTHETIC n = 4000, d = 500, λ = 1e-3, 1 BLAS thread")
    for name, t in core:
        print(f"  {name:<58s} {1e3 * t:10.1f} ms")
    print(f"  {'RIF / IF cost ratio':<58s} {t_rif / t_if:10.2f} x")
    engine = bench_engine()
    if engine:
        rows, ratio = engine
        print("engine overhead")
        for name, t in rows:
            print(f"  {name:<58s} {1e3 * t:10.1f} ms")
        print(f"  {'ratio (mlrun subprocess / first in-process call)':<58s} {ratio:10.1f} x")
    else:
        print("engine overhead: mlrun not installed (pip install -e .)")


if __name__ == "__main__":
    main()
