"""E4: the closed-form identities of spec §5, measured on a given design matrix (errors, not asserts;
the unit tests assert the same identities independently)."""
from __future__ import annotations

import numpy as np

from methods.attribution.influence import (Attribution, leverages, newton_step_direct,
                                           newton_step_woodbury, rescale)
from methods.attribution.logistic import fit_logistic, gradient, mean_hessian, objective, refit_without


def rel_err(a, b) -> float:
    """max |a − b| / max(max |b|, 1e-300)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def finite_difference_errors(X, y, lam, theta, eps: float = 1e-6) -> tuple[float, float]:
    """(d) relative error of ∇L and ∇²L against central finite differences at θ."""
    E = np.eye(len(theta)) * eps
    g_fd = np.array([(objective(theta + e, X, y, lam) - objective(theta - e, X, y, lam)) / (2 * eps) for e in E])
    H_fd = np.array([(gradient(theta + e, X, y, lam) - gradient(theta - e, X, y, lam)) / (2 * eps) for e in E])
    return rel_err(gradient(theta, X, y, lam), g_fd), rel_err(mean_hessian(theta, X, lam), 0.5 * (H_fd + H_fd.T))


def ridge_loo_error(X, y, Lam: float) -> float:
    """(a) ridge with fixed total regulariser Λ: θ₋ᵢ − θ = H⁻¹xᵢrᵢ/(1 − hᵢ) (via ``leverages`` and
    ``rescale``) against the exact leave-one-out refit, worst over all i."""
    n, d = X.shape
    H = X.T @ X + Lam * np.eye(d)
    theta = np.linalg.solve(H, X.T @ y)
    G = X * (X @ theta - y)[:, None]
    rif, _ = rescale(np.linalg.solve(H, G.T).T, leverages(X, np.ones(n), np.linalg.cholesky(H)))
    errs = []
    for i in range(n):
        keep = np.arange(n) != i
        loo = np.linalg.solve(X[keep].T @ X[keep] + Lam * np.eye(d), X[keep].T @ y[keep])
        errs.append(rel_err(theta + rif[i], loo))
    return max(errs)


def closed_form_checks(X, y, lam: float, rng: np.random.Generator, n_probe: int = 10) -> dict[str, float]:
    """Every §5 identity on (X, y): relative errors (≈ 1e-10 when the code is right) and invariants."""
    fit = fit_logistic(X, y, lam)
    a = Attribution(X, y, fit.theta, lam)
    n, d = X.shape
    probe = np.sort(rng.choice(n, size=min(n_probe, n), replace=False))
    out = {"fit_grad_norm": fit.grad_norm}
    out["grad_fd_err"], out["hess_fd_err"] = finite_difference_errors(X, y, lam, rng.standard_normal(d) / np.sqrt(d))
    Hinv = np.linalg.inv(a.H)
    out["leverage_err"] = rel_err(a.h, a.alpha * np.einsum("ij,jk,ik->i", X, Hinv, X))
    out["leverage_min"], out["leverage_max"] = float(a.h.min()), float(a.h.max())
    out["leverage_sum_minus_trace"] = abs(float(a.h.sum() - np.trace(Hinv @ ((X.T * a.alpha) @ X))))
    out["leverage_sum_over_d"] = float(a.h.sum() / d)
    out["rif_rowwise_err"] = rel_err(a.RIF, a.IF / (1 - a.h)[:, None])
    out["sherman_morrison_err"] = max(
        rel_err(np.linalg.solve(a.H - a.alpha[i] * np.outer(X[i], X[i]), X[i]), Hinv @ X[i] / (1 - a.h[i]))
        for i in probe)
    sets = [probe[:1], probe[: max(1, len(probe) // 2)], probe]
    out["woodbury_vs_direct_err"] = max(rel_err(newton_step_woodbury(a, T), newton_step_direct(a, T)) for T in sets)
    out["ns1_vs_direct_err"] = max(rel_err(a.NS1[i], newton_step_direct(a, np.array([i]))) for i in probe)
    firsts, refit_grad = [], 0.0
    for T in sets:
        keep = np.setdiff1d(np.arange(n), T)
        step = np.linalg.solve(mean_hessian(fit.theta, X[keep], lam), gradient(fit.theta, X[keep], y[keep], lam))
        firsts.append(rel_err(a.set_ns(T), -step))
        refit_grad = max(refit_grad, refit_without(X, y, lam, fit.theta, T).grad_norm)
    out["ns_first_newton_err"] = max(firsts)
    out["refit_max_grad"] = refit_grad
    out["own_loss_min"] = float(np.einsum("ij,ij->i", a.G, a.IF).min())          # gᵢᵀH⁻¹gᵢ ≥ 0
    tiny = Attribution(X, y, fit_logistic(X, y, 1e-9).theta, 1e-9)              # λ → 0
    out["rif_vs_loo_newton_gap_tiny_lam"] = max(
        rel_err(tiny.RIF[i], newton_step_direct(tiny, np.array([i]))) for i in probe)
    out["ridge_loo_err"] = ridge_loo_error(X, (2 * y - 1) + 0.1 * rng.standard_normal(n), 0.5)
    return out
