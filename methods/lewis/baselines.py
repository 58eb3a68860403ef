"""The solvers a user would pick instead of the IRLS: the LP and conic formulations (spec §1).

ℓ∞ regression as an LP in (x, t):  min t  s.t.  Ax − b ≤ t·1,  −(Ax − b) ≤ t·1,  Nx = v,  t ≥ 0,
with **x free** (scipy's default bounds x ≥ 0 would silently solve another problem).
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from runner.api import UserError

CVXPY_SOLVERS = ("CLARABEL", "HIGHS")
EXTRA_HINT = "install the optional extra: pip install -e .[baselines]"


def linprog_linf(A: np.ndarray, b: np.ndarray, N: np.ndarray | None = None,
                 v: np.ndarray | None = None, tol: float | None = None) -> np.ndarray:
    """x minimising ‖Ax − b‖∞ s.t. Nx = v by scipy.optimize.linprog(method="highs").

    ``tol`` tightens HiGHS's primal/dual feasibility tolerances (used for reference values).
    """
    from scipy.optimize import linprog

    n, d = A.shape
    ones = np.ones((n, 1))
    c = np.zeros(d + 1)
    c[-1] = 1.0
    A_ub = np.block([[A, -ones], [-A, -ones]])
    b_ub = np.concatenate([b, -b])
    eq = N is not None and N.shape[0] > 0
    A_eq = np.hstack([N, np.zeros((N.shape[0], 1))]) if eq else None
    options = {"primal_feasibility_tolerance": tol, "dual_feasibility_tolerance": tol} if tol else {}
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=v if eq else None,
                  bounds=[(None, None)] * d + [(0, None)], method="highs", options=options)
    if res.status != 0:
        raise RuntimeError(f"linprog-HiGHS failed: {res.message}")
    return res.x[:d]


def reference_opt(A: np.ndarray, b: np.ndarray, N: np.ndarray | None = None,
                  v: np.ndarray | None = None) -> float:
    """OPT for checking other solvers: ‖Ax_lp − b‖∞ at the tight-tolerance linprog-HiGHS point.

    It is the objective of an actual point (feasible up to ~1e-9), so it never undercuts OPT by
    more than rounding; a valid lower bound LB must satisfy LB ≤ this value.
    """
    return float(np.abs(A @ linprog_linf(A, b, N, v, tol=1e-9) - b).max())


def cvxpy_linf(A: np.ndarray, b: np.ndarray, N: np.ndarray | None = None,
               v: np.ndarray | None = None, solver: str = "CLARABEL") -> tuple[np.ndarray, dict]:
    """x minimising ‖Ax − b‖∞ s.t. Nx = v with cvxpy; also the times (total, compile, solve).

    A fresh Problem is built each call so that canonicalisation is never cached between repeats.
    """
    cp = import_cvxpy(solver)
    x = cp.Variable(A.shape[1])
    cons = [N @ x == v] if N is not None and N.shape[0] > 0 else []
    prob = cp.Problem(cp.Minimize(cp.norm(A @ x - b, "inf")), cons)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=solver, **quiet_options(solver))
    total = time.perf_counter() - t0
    if prob.status not in ("optimal", "optimal_inaccurate") or x.value is None:
        raise RuntimeError(f"cvxpy-{solver} failed: status {prob.status}")
    return np.asarray(x.value, dtype=float), {
        "total_s": total, "compile_s": float(prob.compilation_time or np.nan),
        "solve_s": float(prob.solver_stats.solve_time or np.nan)}


def import_cvxpy(solver: str):
    """cvxpy, or a one-line UserError naming the ``baselines`` extra when cvxpy/solver is missing."""
    if solver not in CVXPY_SOLVERS:
        raise UserError(f"unknown cvxpy solver '{solver}'; choose one of {', '.join(CVXPY_SOLVERS)}")
    try:
        import cvxpy as cp
    except ImportError:
        raise UserError(f"cvxpy is not installed: {EXTRA_HINT}") from None
    if solver not in cp.installed_solvers():
        raise UserError(f"cvxpy solver {solver} is not installed: {EXTRA_HINT}")
    return cp


def quiet_options(solver: str) -> dict:
    """Solver options that silence HiGHS's banner (cvxpy passes them through)."""
    return {"output_flag": False} if solver == "HIGHS" else {}
