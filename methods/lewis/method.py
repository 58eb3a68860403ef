"""Thin Method/Dataset adapters for the Lewis-weight IRLS, its baselines and the QSC solver.

Methods accept any dataset exposing ``X`` (n × d) and ``y`` (n), plus optional equality
constraints ``N`` (m × d) and ``v`` (m) (the generators here provide them; sklearn/CSV data do not).
Wall times are medians of ``repeats`` calls after an untimed warm-up on the first rows.
"""
from __future__ import annotations

import time
from functools import cached_property

import numpy as np
import pandas as pd

from methods.lewis import baselines, instances, irls, qsc
from methods.lewis.linalg import weighted_ls
from methods.lewis.timing import median_time
from methods.lewis.weights import homogenise, leverages, lewis_overestimate
from runner.api import Dataset, Method, Result, RunContext, UserError, check, check_finite


# ---------------------------------------------------------------------------------- datasets
class LinfInstance(Dataset):
    """A synthetic instance of the spec's generators (``gaussian``, ``heavy``, ``duplicated``)."""

    provenance = "generated"

    def __init__(self, kind: str = "gaussian", n: int = 2000, d: int = 10, m: int = 3,
                 seed: int = 0, task: str = "linf_regression", x_scale: float | None = None):
        check(kind in instances.KINDS, f"dataset.kind must be one of {instances.KINDS}, got '{kind}'")
        check(int(d) >= 1 and int(m) >= 0, f"need d >= 1 and m >= 0, got d={d}, m={m}")
        check(int(n) >= int(d) + 2, f"dataset.n must exceed d + 1 (overdetermined), got n={n}, d={d}")
        check(int(m) < int(d), f"dataset.m must be < d, got m={m}, d={d}")
        check(task in ("linf_regression", "qsc"), f"dataset.task must be linf_regression or qsc")
        self.kind, self.n, self.d, self.m, self.seed = kind, int(n), int(d), int(m), int(seed)
        self.task, self.x_scale = task, x_scale

    @cached_property
    def arrays(self):
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.n, self.d, self.m,
                                                             instances.KINDS.index(self.kind)]))
        return instances.make_instance(self.kind, rng, self.n, self.d, self.m, self.x_scale)

    X = property(lambda self: self.arrays[0])
    y = property(lambda self: self.arrays[1])
    N = property(lambda self: self.arrays[2])
    v = property(lambda self: self.arrays[3])

    def describe(self) -> dict:
        return {**super().describe(), "kind": self.kind, "n": int(self.X.shape[0]), "d": self.d,
                "m": self.m, "synthetic": True}


def problem_arrays(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(A, b, N, v) from any dataset with ``X``, ``y`` (and optionally ``N``, ``v``), validated."""
    if not (hasattr(dataset, "X") and hasattr(dataset, "y")):
        raise UserError(f"dataset '{dataset.name}' exposes no X and y arrays")
    A = np.ascontiguousarray(dataset.X, dtype=np.float64)
    b = np.asarray(dataset.y, dtype=np.float64).ravel()
    check(A.ndim == 2 and A.shape[0] == b.shape[0],
          f"dataset '{dataset.name}': X must be n × d with n = len(y), got {A.shape} and {b.shape}")
    check(A.shape[0] > A.shape[1] + 1, f"dataset '{dataset.name}': need n > d + 1 rows, got {A.shape}")
    check_finite(f"dataset '{dataset.name}' X", A)
    check_finite(f"dataset '{dataset.name}' y", b)
    N, v = getattr(dataset, "N", None), getattr(dataset, "v", None)
    if N is not None:
        N, v = np.atleast_2d(np.asarray(N, float)), np.asarray(v, float).ravel()
        check(N.shape[1] == A.shape[1] and N.shape[0] == v.shape[0],
              f"dataset '{dataset.name}': N must be m × d and v of length m")
    return A, b, N, v


def feasibility(N, v, x) -> float:
    """‖Nx − v‖∞ (0 without constraints)."""
    return float(np.abs(N @ x - v).max()) if N is not None and N.shape[0] else 0.0


def warmup_rows(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first min(n, 20(d+1)) rows: a small problem of the same d for the untimed warm-up."""
    k = min(A.shape[0], 20 * (A.shape[1] + 1))
    return A[:k], b[:k]


# ------------------------------------------------------------------------- ℓ∞ regression
class LinfMethod(Method):
    """Shared knobs of the ℓ∞-regression methods: repeats, warm-up and the reference OPT."""

    task = "linf_regression"

    def __init__(self, repeats: int = 1, warmup: bool = True, reference: bool = False):
        check(int(repeats) >= 1, f"method.repeats must be >= 1, got {repeats}")
        self.repeats, self.warmup, self.reference = int(repeats), bool(warmup), bool(reference)

    def solve(self, A, b, N, v):  # pragma: no cover - interface
        """Return (x, extra metrics dict)."""
        raise NotImplementedError

    def run(self, dataset, ctx: RunContext) -> Result:
        A, b, N, v = problem_arrays(dataset)
        wA, wb = warmup_rows(A, b)
        (x, extra), t, times = median_time(lambda: self.solve(A, b, N, v), self.repeats,
                                           (lambda: self.solve(wA, wb, N, v)) if self.warmup else None)
        obj = float(np.abs(A @ x - b).max())
        metrics = {"objective": obj, "time_s": t, "time_min_s": min(times),
                   "feas_err": feasibility(N, v, x), "n": A.shape[0], "d": A.shape[1],
                   **{k: val for k, val in extra.items() if np.isscalar(val)}}
        if self.reference:
            opt = baselines.reference_opt(A, b, N, v)
            metrics.update(opt_ref=opt, rel_err=(obj - opt) / opt)
            if "lb" in metrics:
                metrics.update(lb_over_opt=metrics["lb"] / opt, ub_over_opt=obj / opt,
                               ub0_over_opt=metrics["ub0"] / opt)
        if "trace" in extra:
            ctx.save_table("trace", pd.DataFrame(extra["trace"], columns=["solve", "lb", "ub", "tau"]))
        return Result(metrics=metrics)


class LewisIRLS(LinfMethod):
    """The certified IRLS: Lewis (or uniform) overestimate init + threshold or Lawson update."""

    def __init__(self, update: str = "threshold", init: str = "lewis", eps: float = 0.05,
                 lewis_iters: int = 50, max_solves: int = 1000, delta: float = 1e-3, **kw):
        super().__init__(**kw)
        check(update in irls.UPDATES, f"method.update must be one of {irls.UPDATES}, got '{update}'")
        check(init in ("lewis", "uniform"), f"method.init must be lewis or uniform, got '{init}'")
        check(0 < float(eps) < 1, f"method.eps must be in (0, 1), got {eps}")
        check(int(lewis_iters) >= 1 and int(max_solves) >= 1 and float(delta) > 0,
              "method.lewis_iters and method.max_solves must be >= 1 and method.delta > 0")
        self.update, self.init, self.eps = update, init, float(eps)
        self.lewis_iters, self.max_solves, self.delta = int(lewis_iters), int(max_solves), float(delta)

    def solve(self, A, b, N, v):
        t0 = time.perf_counter()
        w0 = irls.initial_weights(A, b, self.init, self.lewis_iters)
        t_w = time.perf_counter() - t0
        res = irls.irls_linf(A, b, w0, self.eps, self.update, N, v, self.max_solves, self.delta)
        return res.x, {"eps": self.eps, "lb": res.lb, "ub0": res.ub0, "gap": res.ub / res.lb,
                       "n_solves": res.n_solves, "converged": float(res.converged),
                       "sum_w_init": res.sum_w_init, "time_weights_s": t_w,
                       "lewis_iters": self.lewis_iters if self.init == "lewis" else 0,
                       "trace": res.trace}


class LinprogLinf(LinfMethod):
    """scipy.optimize.linprog(method="highs") on the LP with free x (default tolerances)."""

    def solve(self, A, b, N, v):
        return baselines.linprog_linf(A, b, N, v), {}


class CvxpyLinf(LinfMethod):
    """cvxpy ``norm(Ax − b, "inf")`` with CLARABEL or HIGHS; compile and solve times separate."""

    def __init__(self, solver: str = "CLARABEL", **kw):
        super().__init__(**kw)
        baselines.import_cvxpy(solver)
        self.solver = solver

    def solve(self, A, b, N, v):
        x, times = baselines.cvxpy_linf(A, b, N, v, self.solver)
        return x, {"compile_s": times["compile_s"], "solve_s": times["solve_s"]}


class LewisWeights(Method):
    """E3: certified Lewis overestimates of Ã = [A, −b] and the one-solve bound UB₀ ≤ √Σw·OPT."""

    task = "linf_regression"

    def __init__(self, iters: int = 50, checkpoints: tuple[int, ...] = (1, 5, 10, 20, 50, 100),
                 reference: bool = True):
        check(int(iters) >= 1, f"method.iters must be >= 1, got {iters}")
        check(bool(reference), "method lewis_weights needs reference=true (OPT from linprog-HiGHS)")
        self.iters, self.checkpoints = int(iters), tuple(int(k) for k in checkpoints)

    def run(self, dataset, ctx: RunContext) -> Result:
        A, b, N, v = problem_arrays(dataset)
        At = homogenise(A, b)
        opt = baselines.reference_opt(A, b, N, v)
        metrics = {"opt_ref": opt, "n": A.shape[0], "d": A.shape[1]}
        for init, K in (("lewis", self.iters), ("uniform", 0)):
            w, info = lewis_overestimate(At, K)
            x, _ = weighted_ls(A, b, w, N, v)
            ub0 = float(np.abs(A @ x - b).max())
            metrics.update({f"{init}_max_g": float(leverages(At, w).max()),  # unscaled Ã: a check
                            f"{init}_sum_w": info["sum_w"], f"{init}_c": info["c"],
                            f"{init}_sum_w_over_d1": info["sum_w"] / At.shape[1],
                            f"{init}_ub0_over_opt": ub0 / opt,
                            f"{init}_sqrt_sum_w": float(np.sqrt(info["sum_w"])),
                            f"{init}_bound_holds": float(ub0 <= np.sqrt(info["sum_w"]) * opt)})
        ks = sorted(set(self.checkpoints) | {self.iters})
        _, info = lewis_overestimate(At, max(ks), checkpoints=tuple(ks))
        ctx.save_table("certification", pd.DataFrame(info["curve"], columns=["K", "c"]))
        return Result(metrics=metrics)


# ------------------------------------------------------------------------------------ QSC
class QscMethod(Method):
    """Shared knobs of the QSC methods: the loss, repeats and the cvxpy reference solve."""

    task = "qsc"

    def __init__(self, loss: str = "logistic2", repeats: int = 1, reference: bool = False):
        check(loss in qsc.LOSSES, f"method.loss must be one of {qsc.LOSSES}, got '{loss}'")
        check(int(repeats) >= 1, f"method.repeats must be >= 1, got {repeats}")
        self.loss, self.repeats, self.reference = loss, int(repeats), bool(reference)

    def solve(self, A, b, N, v):  # pragma: no cover - interface
        raise NotImplementedError

    def run(self, dataset, ctx: RunContext) -> Result:
        A, b, N, v = problem_arrays(dataset)
        (x, extra), t, _ = median_time(lambda: self.solve(A, b, N, v), self.repeats)
        F = qsc.objective(self.loss, A, b, x)
        metrics = {"objective": F, "time_s": t, "feas_err": feasibility(N, v, x),
                   **{k: val for k, val in extra.items() if np.isscalar(val)}}
        if self.reference:
            t0 = time.perf_counter()
            try:
                xr = qsc.qsc_cvxpy(A, b, self.loss, N, v, tight=True)
            except RuntimeError as err:     # cvxpy's failure is a result, not a crash of ours
                ctx.log.warning("reference solve failed: %s", err)
                metrics["ref_failed"] = 1.0
            else:
                Fr = qsc.objective(self.loss, A, b, xr)
                metrics.update(ref_failed=0.0, ref_time_s=time.perf_counter() - t0, obj_ref=Fr,
                               rel_obj_diff=(F - Fr) / abs(Fr), ref_feas_err=feasibility(N, v, xr))
        if "trace" in extra:
            ctx.save_table("trace", pd.DataFrame({"iter": range(len(extra["trace"])),
                                                  "objective": extra["trace"]}))
        return Result(metrics=metrics)


class QscTrustRegion(QscMethod):
    """Trust-region method; the subproblem by the Lewis-initialised IRLS or by cvxpy [inferred]."""

    def __init__(self, subsolver: str = "irls", lewis_iters: int = 50, max_outer: int = 50,
                 tol: float = 1e-12, sub_tol: float = 1e-3, **kw):
        super().__init__(**kw)
        check(subsolver in ("irls", "cvxpy"), f"method.subsolver must be irls or cvxpy, got '{subsolver}'")
        if subsolver == "cvxpy":
            baselines.import_cvxpy("CLARABEL")
        check(int(max_outer) >= 1 and int(lewis_iters) >= 1, "max_outer and lewis_iters must be >= 1")
        self.subsolver, self.lewis_iters, self.max_outer = subsolver, int(lewis_iters), int(max_outer)
        self.tol, self.sub_tol = float(tol), float(sub_tol)

    def solve(self, A, b, N, v):
        wl = lewis_overestimate(A, self.lewis_iters)[0] if self.subsolver == "irls" else None
        out = qsc.trust_region(A, b, self.loss, N, v, self.subsolver, wl, self.max_outer,
                               self.tol, self.sub_tol)
        return out["x"], {"outer_iters": out["outer_iters"], "solves": out["solves"],
                          "converged": float(out["converged"]), "trace": out["trace"]}


class QscCvxpy(QscMethod):
    """Direct cvxpy-CLARABEL solve (exponential cones) of the QSC problem."""

    def __init__(self, **kw):
        super().__init__(**kw)
        baselines.import_cvxpy("CLARABEL")

    def solve(self, A, b, N, v):
        return qsc.qsc_cvxpy(A, b, self.loss, N, v), {}
