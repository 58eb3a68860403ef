"""Closed forms, invariants and the pitfalls of spec §5 for the ℓ∞ Lewis-weight IRLS."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from methods.lewis.baselines import linprog_linf, reference_opt
from methods.lewis.instances import duplicated_instance, gaussian_instance
from methods.lewis.irls import initial_weights, irls_linf, lawson_update, threshold_update
from methods.lewis.linalg import kkt_solve, weighted_ls
from methods.lewis.weights import homogenise, leverages, lewis_overestimate
from runner.api import UserError


def linf(A, b, x):
    return float(np.abs(A @ x - b).max())


@pytest.fixture
def inst():
    return gaussian_instance(np.random.default_rng(1), 600, 6, 2)


def test_linprog_free_bounds_closed_form():
    """d = 1, A = 1, b = [-3, -1]: the mid-range x* = -2 < 0, OPT = 1 (x >= 0 would give 3)."""
    A, b = np.ones((2, 1)), np.array([-3.0, -1.0])
    x = linprog_linf(A, b)
    assert x[0] == pytest.approx(-2.0, abs=1e-9)
    assert linf(A, b, x) == pytest.approx(1.0, abs=1e-9)
    res = irls_linf(A, b, initial_weights(A, b, "lewis", 50), 1e-6)
    assert res.x[0] == pytest.approx(-2.0, abs=1e-9) and res.converged
    assert res.lb == pytest.approx(1.0) and res.ub == pytest.approx(1.0)


def test_stacked_identity_lewis_weights_are_uniform():
    """(a) k stacked copies of I_d: the ℓ∞ Lewis weights are 1/k, certified with c = 1."""
    k, d = 4, 5
    w, info = lewis_overestimate(np.vstack([np.eye(d)] * k), 10)
    np.testing.assert_allclose(w, 1.0 / k, rtol=1e-12)
    assert info["c"] == pytest.approx(1.0, abs=1e-12)


def test_trace_identity():
    """(b) Σᵢ wᵢ gᵢ(w) = k for any w > 0."""
    rng = np.random.default_rng(0)
    At = rng.standard_normal((300, 7))
    for _ in range(3):
        w = rng.exponential(size=300)
        assert np.dot(w, leverages(At, w)) == pytest.approx(7.0, rel=1e-12)


@pytest.mark.parametrize("K", [0, 5, 50])
def test_certified_max_leverage_is_one(inst, K):
    """(c) after certification max g(w_L) = 1 (on the unscaled Ã), and Σw_L = c·(d+1)."""
    A, b, _, _ = inst
    At = homogenise(A, b)
    w, info = lewis_overestimate(At, K)
    assert leverages(At, w).max() == pytest.approx(1.0, abs=1e-10)
    assert info["sum_w"] == pytest.approx(info["c"] * At.shape[1], rel=1e-12)
    assert info["sum_w"] >= At.shape[1] - 1e-9        # Σw ≥ k for any certified overestimate


def test_fixed_point_preserves_mass_and_certificate_improves(inst):
    A, b, _, _ = inst
    At = homogenise(A, b)
    _, info = lewis_overestimate(At, 50, checkpoints=(1, 5, 50))
    cs = [c for _, c in info["curve"]]
    assert cs[0] > cs[-1] and cs[-1] < 1.15
    assert lewis_overestimate(At, 0)[1]["c"] > cs[-1]   # uniform is worse than the fixed point


def test_weighted_ls_matches_nullspace_lstsq(inst):
    """(d) the KKT solution equals lstsq on the null-space reparametrisation x = x_p + Z y."""
    A, b, N, v = inst
    w = np.random.default_rng(2).exponential(size=len(b))
    x, E = weighted_ls(A, b, w, N, v)
    xp = np.linalg.lstsq(N, v, rcond=None)[0]
    Z = sla.null_space(N)
    s = np.sqrt(w)
    y = np.linalg.lstsq(s[:, None] * (A @ Z), s * (b - A @ xp), rcond=None)[0]
    np.testing.assert_allclose(x, xp + Z @ y, rtol=1e-9, atol=1e-10)
    assert E == pytest.approx(float(np.dot(w, (A @ x - b) ** 2)), rel=1e-12)
    assert np.abs(N @ x - v).max() <= 1e-10


def test_kkt_solve_residuals():
    rng = np.random.default_rng(3)
    A, w, rhs = rng.standard_normal((200, 8)), rng.exponential(size=200), rng.standard_normal(8)
    N, v = rng.standard_normal((3, 8)), rng.standard_normal(3)
    x = kkt_solve(A, w, rhs, N, v)
    H = A.T @ (w[:, None] * A)
    mu = np.linalg.lstsq(N.T, rhs - H @ x, rcond=None)[0]      # stationarity: Hx + Nᵀμ = rhs
    assert np.abs(H @ x + N.T @ mu - rhs).max() <= 1e-10 * np.abs(rhs).max()
    assert np.abs(N @ x - v).max() <= 1e-12


@pytest.mark.parametrize("update", ["threshold", "lawson"])
@pytest.mark.parametrize("init", ["lewis", "uniform"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certificates_bracket_lp_opt(update, init, seed):
    """(e) LB ≤ OPT_LP ≤ UB, UB ≤ (1+ε)LB at exit, Nx = v to 1e-10."""
    A, b, N, v = gaussian_instance(np.random.default_rng(seed), 500, 5, 3, x_scale=np.sqrt(5))
    opt = reference_opt(A, b, N, v)
    eps = 0.02
    res = irls_linf(A, b, initial_weights(A, b, init, 50), eps, update, N, v)
    assert res.converged
    assert res.lb <= opt * (1 + 1e-9) and opt <= res.ub * (1 + 1e-9)
    assert res.ub <= (1 + eps) * res.lb and res.ub <= (1 + eps) * opt
    assert linf(A, b, res.x) == pytest.approx(res.ub)
    assert np.abs(N @ res.x - v).max() <= 1e-10


def test_haar_case_closed_form():
    """(f) n = d + 1: OPT = |yᵀb|/‖y‖₁ with y spanning null(Aᵀ); IRLS and LP agree with it."""
    rng = np.random.default_rng(4)
    d = 6
    A, b = rng.standard_normal((d + 1, d)), rng.standard_normal(d + 1)
    y = sla.null_space(A.T)[:, 0]
    opt = abs(y @ b) / np.abs(y).sum()
    assert linf(A, b, linprog_linf(A, b)) == pytest.approx(opt, rel=1e-7)
    res = irls_linf(A, b, initial_weights(A, b, "lewis", 50), 1e-4, "lawson")
    assert res.lb <= opt * (1 + 1e-9) and res.ub <= (1 + 1e-4) * opt and res.converged


def test_one_solve_bound_needs_homogenisation():
    """Pitfall: with Lewis weights of A (not Ã) the bound UB₀ ≤ √Σw·OPT can fail; with Ã it holds."""
    n = 10
    A, b = np.ones((n, 1)), np.zeros(n)
    b[-1] = 1.0                                     # OPT = 1/2 (mid-range), mean(b) = 1/n
    opt = 0.5
    w_A, info_A = lewis_overestimate(A, 20)          # uniform 1/n, Σw = 1
    x, _ = weighted_ls(A, b, w_A)
    assert linf(A, b, x) > np.sqrt(info_A["sum_w"]) * opt
    w, info = lewis_overestimate(homogenise(A, b), 50)
    x, _ = weighted_ls(A, b, w)
    assert linf(A, b, x) <= np.sqrt(info["sum_w"]) * opt


def test_duplicated_rows_no_underflow():
    """Pitfall: redundant rows get ~0 Lewis weight; the floored IRLS stays finite and certified."""
    A, b, N, v = duplicated_instance(np.random.default_rng(5), 1200, 5, 2)
    w = initial_weights(A, b, "lewis", 50)
    assert np.all(np.isfinite(w)) and w.min() >= 0
    for update in ("threshold", "lawson"):
        res = irls_linf(A, b, w, 0.05, update, N, v)
        assert res.converged and np.isfinite(res.lb) and res.lb > 0
        assert res.lb <= reference_opt(A, b, N, v) * (1 + 1e-9)


def test_opt_zero_is_a_user_error():
    """Pitfall: b in range(A) makes Ã rank-deficient (OPT = 0): a one-line UserError."""
    rng = np.random.default_rng(6)
    A = rng.standard_normal((50, 3))
    with pytest.raises(UserError, match="OPT = 0"):
        initial_weights(A, A @ np.ones(3), "lewis", 5)


def test_updates():
    w = np.full(4, 0.25)
    r = np.array([0.5, 1.0, 3.0, 1.1])
    out = threshold_update(w, r, tau=1.0, eps=0.3)          # threshold (1 + 0.1)·1 = 1.1
    np.testing.assert_allclose(out, [0.25, 0.25, 1.0, 0.25])  # factor capped at 4
    lw = lawson_update(w, r)
    assert lw.sum() == pytest.approx(1.0) and np.argmax(lw) == 2
