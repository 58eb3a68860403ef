"""Trust-region method for quasi-self-concordant objectives (spec §2 (f), E4) [inferred].

Problem:  min_{Nx=v} F(x) = Σᵢ f((Ax − b)ᵢ)  with f quasi-self-concordant, |f'''| ≤ M f''.
Step:     Δ = argmin_{NΔ=0, ‖AΔ‖∞ ≤ R} ∇Fᵀ Δ + ½ ΔᵀAᵀD(x)AΔ,  D = diag f''(Ax − b),  R ≤ 1/M,
          inside which the Hessian of F stays within e^{±1} of AᵀD(x)A.
The paper solves the box-constrained subproblem with its ℓ∞-regression IRLS; how exactly is not
known (spec).  ``box_qp_irls`` is my reconstruction: the Lagrangian of the ℓ∞ constraints,
½Σλᵢ((aᵢᵀΔ)² − R²), turns every iterate into one weighted least-squares (KKT) solve with weights
D + λ; λ starts at a multiple of the Lewis-weight overestimate of A and is updated multiplicatively
λᵢ ← λᵢ·clip((aᵢᵀΔ/R)², 1/4, 4); the dual value certifies the gap.
"""
from __future__ import annotations

import warnings

import numpy as np

from methods.lewis.baselines import import_cvxpy
from methods.lewis.linalg import kkt_solve


def _sech2_half(t: np.ndarray) -> np.ndarray:
    """sech²(t/2) = 4e^{−|t|}/(1 + e^{−|t|})², overflow-free."""
    e = np.exp(-np.abs(t))
    return 4.0 * e / (1.0 + e) ** 2


def loss_terms(loss: str, t: np.ndarray, order: int = 2) -> list[np.ndarray]:
    """[f, f', f'' (, f''')] at t.  M = 1 for both losses.

    ``logistic2``: f(t) = log(1+eᵗ) + log(1+e⁻ᵗ) = |t| + 2 log(1 + e^{−|t|}),  f' = tanh(t/2),
        f'' = ½ sech²(t/2),  f''' = −f''·tanh(t/2)  (so |f'''| ≤ f'').
    ``cosh``: f(t) = eᵗ + e⁻ᵗ,  f' = eᵗ − e⁻ᵗ,  f'' = f,  f''' = f'  (so |f'''| ≤ f'').
    """
    if loss == "logistic2":
        th = np.tanh(t / 2.0)
        f2 = 0.5 * _sech2_half(t)
        out = [np.abs(t) + 2.0 * np.log1p(np.exp(-np.abs(t))), th, f2, -f2 * th]
    elif loss == "cosh":
        ep, em = np.exp(t), np.exp(-t)
        out = [ep + em, ep - em, ep + em, ep - em]
    else:
        raise ValueError(f"unknown loss '{loss}'")
    return out[: order + 1]


LOSSES = ("logistic2", "cosh")
TIGHT_CLARABEL = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11,
                  "tol_ktratio": 1e-9, "max_iter": 500}
QSC_M = {"logistic2": 1.0, "cosh": 1.0}


def objective(loss: str, A: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    """F(x) = Σᵢ f((Ax − b)ᵢ)."""
    return float(loss_terms(loss, A @ x - b, 0)[0].sum())


def feasible_start(N: np.ndarray | None, v: np.ndarray | None, d: int) -> np.ndarray:
    """The least-norm point of {Nx = v} (0 without constraints)."""
    if N is None or N.shape[0] == 0:
        return np.zeros(d)
    return np.linalg.lstsq(N, v, rcond=None)[0]


def box_qp_irls(A: np.ndarray, g: np.ndarray, D: np.ndarray, N: np.ndarray | None, R: float,
                w_lewis: np.ndarray, tol: float = 1e-3, max_iter: int = 30) -> tuple[np.ndarray, int]:
    """Approximately solve min_{NΔ=0, ‖AΔ‖∞≤R} gᵀΔ + ½ΣDᵢ(aᵢᵀΔ)²; returns (Δ, linear solves).

    First the Newton step (λ = 0): if it is inside the box it is the exact answer.  Otherwise
    dual iterations with weights D + λ: each gives a lower bound (the dual value
    q(Δ_λ) + ½Σλᵢ((aᵢᵀΔ_λ)² − R²)) and a feasible point (Δ_λ shrunk into the box); stop when
    the gap is ≤ tol·|dual|.  The returned point is always feasible and has q < 0 (descent).
    """
    m = 0 if N is None else N.shape[0]
    zero = np.zeros(m)

    def q(step):
        return float(g @ step + 0.5 * np.dot(D, (A @ step) ** 2))

    step = kkt_solve(A, D, -g, N, zero)
    u = A @ step
    umax = float(np.abs(u).max())
    if umax <= R:
        return step, 1
    best = step * (R / umax)
    best_q = q(best)
    lam = w_lewis * (D.sum() / w_lewis.sum()) * (umax / R)
    for k in range(1, max_iter + 1):
        step = kkt_solve(A, D + lam, -g, N, zero)
        u = A @ step
        dual = q(step) + 0.5 * float(np.dot(lam, u * u - R * R))
        umax = float(np.abs(u).max())
        cand = step * min(1.0, R / umax)
        if q(cand) < best_q:
            best, best_q = cand, q(cand)
        if best_q - dual <= tol * abs(dual):
            break
        lam = lam * np.clip((u / R) ** 2, 0.25, 4.0) + 1e-300
    return best, 1 + k


def box_qp_cvxpy(A: np.ndarray, g: np.ndarray, D: np.ndarray, N: np.ndarray | None, R: float,
                 solver: str = "CLARABEL") -> tuple[np.ndarray, int]:
    """The same subproblem solved directly by cvxpy (returns (Δ, 1))."""
    cp = import_cvxpy(solver)
    step = cp.Variable(A.shape[1])
    u = A @ step
    cons = [cp.norm(u, "inf") <= R] + ([N @ step == 0] if N is not None and N.shape[0] else [])
    prob = cp.Problem(cp.Minimize(g @ step + 0.5 * cp.sum(cp.multiply(D, cp.square(u)))), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=solver)
    if step.value is None:
        raise RuntimeError(f"cvxpy-{solver} failed on the trust-region subproblem: {prob.status}")
    out = np.asarray(step.value, dtype=float)
    umax = float(np.abs(A @ out).max())
    return out * min(1.0, R / umax), 1      # clip solver tolerance back into the box


def trust_region(A: np.ndarray, b: np.ndarray, loss: str, N: np.ndarray | None = None,
                 v: np.ndarray | None = None, subsolver: str = "irls",
                 w_lewis: np.ndarray | None = None, max_outer: int = 50, tol: float = 1e-12,
                 sub_tol: float = 1e-3) -> dict:
    """Trust-region iterations x ← x + Δ from the least-norm feasible point.

    R starts at 1/M.  A step is accepted if F decreases; otherwise R is halved (the step is
    retried).  After an accepted step R is reset to 1/M.  Stops when the model decrease −q(Δ)
    is ≤ tol·max(1, |F|) (for an interior Newton step that is half the squared Newton decrement).
    Returns x, F, the number of outer iterations, of linear solves, and the trace of F.
    """
    d = A.shape[1]
    R_max = 1.0 / QSC_M[loss]
    R = R_max
    x = feasible_start(N, v, d)
    F = objective(loss, A, b, x)
    trace, solves, converged, it = [F], 0, False, 0
    for it in range(1, max_outer + 1):
        _, f1, f2 = loss_terms(loss, A @ x - b, 2)
        g = A.T @ f1
        D = f2 + 1e-14 * f2.max()
        if subsolver == "irls":
            step, k = box_qp_irls(A, g, D, N, R, w_lewis, sub_tol)
        else:
            step, k = box_qp_cvxpy(A, g, D, N, R)
        solves += k
        pred = float(g @ step + 0.5 * np.dot(D, (A @ step) ** 2))
        if -pred <= tol * max(1.0, abs(F)):
            converged = True
            break
        F_new = objective(loss, A, b, x + step)
        if F_new < F:
            x, F, R = x + step, F_new, R_max
        else:
            R *= 0.5
        trace.append(F)
    return {"x": x, "F": F, "outer_iters": it, "solves": solves, "converged": converged,
            "trace": trace}


def qsc_cvxpy(A: np.ndarray, b: np.ndarray, loss: str, N: np.ndarray | None = None,
              v: np.ndarray | None = None, solver: str = "CLARABEL", tight: bool = False) -> np.ndarray:
    """Direct conic solve of min_{Nx=v} Σ f((Ax−b)ᵢ) with cvxpy (exponential cones).

    ``tight`` sets CLARABEL's gap/feasibility tolerances to 1e-11 (for reference values: at the
    defaults its point can violate Nx = v by ~1e-4 on cosh instances).
    """
    cp = import_cvxpy(solver)
    x = cp.Variable(A.shape[1])
    r = A @ x - b
    F = cp.logistic(r) + cp.logistic(-r) if loss == "logistic2" else cp.exp(r) + cp.exp(-r)
    cons = [N @ x == v] if N is not None and N.shape[0] else []
    prob = cp.Problem(cp.Minimize(cp.sum(F)), cons)
    attempts = [TIGHT_CLARABEL, {}] if tight and solver == "CLARABEL" else [{}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for options in attempts:            # tight tolerances can stall: fall back to defaults
            try:
                prob.solve(solver=solver, **options)
                break
            except cp.error.SolverError:
                continue
    if x.value is None:
        raise RuntimeError(f"cvxpy-{solver} failed on the QSC problem (status {prob.status})")
    return np.asarray(x.value, dtype=float)
