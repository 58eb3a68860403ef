"""Closed forms, gradient checks and invariants of the IF / RIF / NS core (spec rif.md §5)."""
import numpy as np
import pytest

from methods.attribution.effects import Effects, pearson, slope
from methods.attribution.influence import (Attribution, leverages, newton_step_direct,
                                           newton_step_woodbury, per_sample_gradients, rescale,
                                           total_hessian)
from methods.attribution.logistic import (fit_logistic, gradient, loss_change, mean_hessian,
                                          objective, refit_without, sample_losses)
from methods.attribution.removal import removal_set, removal_sizes, top_from_2k, validate_fraction
from runner.api import UserError


def synthetic(n, d, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    theta = scale * rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ theta))).astype(float)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = synthetic(80, 20, seed=1, scale=3.0)
    lam = 1e-2
    fit = fit_logistic(X, y, lam)
    return X, y, lam, fit.theta, Attribution(X, y, fit.theta, lam)


def test_gradient_and_hessian_match_finite_differences():
    X, y = synthetic(40, 6, seed=2)
    lam, theta = 0.05, np.random.default_rng(3).standard_normal(6)
    eps = 1e-6
    E = np.eye(6) * eps
    g_fd = np.array([(objective(theta + e, X, y, lam) - objective(theta - e, X, y, lam)) / (2 * eps) for e in E])
    np.testing.assert_allclose(gradient(theta, X, y, lam), g_fd, rtol=1e-7, atol=1e-9)
    H_fd = np.array([(gradient(theta + e, X, y, lam) - gradient(theta - e, X, y, lam)) / (2 * eps) for e in E])
    np.testing.assert_allclose(mean_hessian(theta, X, lam), H_fd, rtol=1e-6, atol=1e-9)
    # per-sample gradients (with their regulariser share) sum to n ∇L; the total Hessian is n ∇²L
    np.testing.assert_allclose(per_sample_gradients(X, y, theta, lam).sum(0), 40 * gradient(theta, X, y, lam))
    np.testing.assert_allclose(total_hessian(X, theta, lam), 40 * mean_hessian(theta, X, lam))


def test_loss_change_is_stable_and_exact():
    z = np.array([-40.0, -3.0, 0.0, 2.0, 35.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    s = 1 / (1 + np.exp(-z))
    for dz in (1e-9, -3e-5, 0.5, -2.0, 7.0):
        got = loss_change(z, np.full_like(z, dz), y)
        if abs(dz) >= 0.1:   # no cancellation: the plain difference is exact enough
            want = np.logaddexp(0, z + dz) - y * (z + dz) - np.logaddexp(0, z) + y * z
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        else:                # Taylor to third order; the plain difference would lose all digits
            want = (s - y) * dz + s * (1 - s) * dz**2 / 2 + s * (1 - s) * (1 - 2 * s) * dz**3 / 6
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-15 * abs(dz))


def test_fit_and_refit_reach_tolerance(fitted):
    X, y, lam, theta, _ = fitted
    assert np.linalg.norm(gradient(theta, X, y, lam)) <= 1e-10
    T = np.arange(5)
    fit = refit_without(X, y, lam, theta, T)
    keep = np.setdiff1d(np.arange(len(y)), T)
    assert fit.grad_norm <= 1e-10
    assert np.linalg.norm(gradient(fit.theta, X[keep], y[keep], lam)) <= 1e-10
    with pytest.raises(RuntimeError, match="did not reach"):
        fit_logistic(X, y, lam, max_iter=1)


def test_fit_handles_separable_data():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((60, 30)), np.ones((60, 1))])
    y = (X[:, 0] > 0).astype(float)            # separable: ‖θ‖ grows until λ stops it
    fit = fit_logistic(X, y, 1e-3)
    assert fit.grad_norm <= 1e-10 and np.isfinite(objective(fit.theta, X, y, 1e-3))


def test_leverages_total_hessian(fitted):
    X, _, lam, _, a = fitted
    Hinv = np.linalg.inv(a.H)
    brute = a.alpha * np.einsum("ij,jk,ik->i", X, Hinv, X)
    np.testing.assert_allclose(a.h, brute, rtol=1e-10)
    assert np.all(a.h > 0) and np.all(a.h < 1)
    XtDX = (X.T * a.alpha) @ X
    assert a.h.sum() == pytest.approx(np.trace(Hinv @ XtDX), rel=1e-10)
    assert a.h.sum() <= X.shape[1]
    # with the mean Hessian the leverages would be n times larger: many exceed 1
    assert np.any(len(X) * a.h > 1)


def test_rif_is_if_rescaled_rowwise(fitted):
    _, _, _, _, a = fitted
    np.testing.assert_allclose(a.RIF, a.IF / (1 - a.h)[:, None], rtol=1e-12)
    assert a.n_clipped == 0
    R, clipped = rescale(np.ones((3, 2)), np.array([0.5, 1.0, 1.5]), floor=1e-12)
    assert clipped == 2 and np.all(np.isfinite(R)) and R[0, 0] == 2.0


def test_sherman_morrison_and_rif_is_exact_single_newton_step(fitted):
    X, _, lam, _, a = fitted
    for i in (0, 7, 33):
        x, al = X[i], a.alpha[i]
        # (b) (H − αxxᵀ)⁻¹x = H⁻¹x / (1 − α xᵀH⁻¹x)
        lhs = np.linalg.solve(a.H - al * np.outer(x, x), x)
        np.testing.assert_allclose(lhs, np.linalg.solve(a.H, x) / (1 - a.h[i]), rtol=1e-10)
        # RIF_i = exact Newton step (H − αxxᵀ)⁻¹ on the data part rᵢxᵢ of gᵢ, plus the regulariser
        # share λθ̂ rescaled by the same 1/(1 − hᵢ); NS also subtracts the removed λI share
        r = a.p[i] - a.y[i]
        np.testing.assert_allclose(a.RIF[i], np.linalg.solve(a.H - al * np.outer(x, x), r * x)
                                   + np.linalg.solve(a.H, lam * a.theta) / (1 - a.h[i]), rtol=1e-9)
        ns = newton_step_direct(a, np.array([i]))
        np.testing.assert_allclose(ns, np.linalg.solve(a.H - al * np.outer(x, x) - lam * np.eye(len(x)), a.G[i]),
                                   rtol=1e-9)
        np.testing.assert_allclose(a.NS1[i], ns, rtol=1e-9)


def test_rif_equals_exact_leave_one_out_newton_step_as_lambda_vanishes():
    X, y = synthetic(120, 8, seed=4)
    gaps = []
    for lam in (1e-2, 1e-4, 1e-6, 1e-8):
        a = Attribution(X, y, fit_logistic(X, y, lam).theta, lam)
        ns = np.stack([newton_step_direct(a, np.array([i])) for i in range(10)])
        gaps.append(np.abs(a.RIF[:10] - ns).max() / np.abs(ns).max())
    assert gaps[-1] < 1e-7                      # λ → 0: RIF = exact leave-one-out Newton step
    assert all(g1 < g0 for g0, g1 in zip(gaps, gaps[1:]))   # the gap is the regulariser share only


def test_woodbury_newton_step_equals_direct(fitted):
    _, _, _, _, a = fitted
    for T in (np.array([3]), np.arange(0, 40, 5), np.arange(25)):
        np.testing.assert_allclose(newton_step_woodbury(a, T), newton_step_direct(a, T), rtol=1e-8, atol=1e-12)


def test_newton_step_is_first_newton_iteration_of_refit(fitted):
    X, y, lam, theta, a = fitted
    T = np.array([1, 4, 9, 16])
    keep = np.setdiff1d(np.arange(len(y)), T)
    first = theta - np.linalg.solve(mean_hessian(theta, X[keep], lam), gradient(theta, X[keep], y[keep], lam))
    np.testing.assert_allclose(theta + a.set_ns(T), first, rtol=1e-9)


def test_ridge_closed_form_leave_one_out_via_leverages_and_rescale():
    """(a) Ridge with a fixed total regulariser Λ: θ₋ᵢ − θ = H⁻¹xᵢrᵢ/(1 − hᵢ), hᵢ = xᵢᵀH⁻¹xᵢ."""
    rng = np.random.default_rng(5)
    X, y, Lam = rng.standard_normal((30, 12)), rng.standard_normal(30), 0.3
    H = X.T @ X + Lam * np.eye(12)
    theta = np.linalg.solve(H, X.T @ y)
    G = X * (X @ theta - y)[:, None]
    h = leverages(X, np.ones(30), np.linalg.cholesky(H))
    rif, _ = rescale(np.linalg.solve(H, G.T).T, h)
    for i in range(30):
        keep = np.arange(30) != i
        loo = np.linalg.solve(X[keep].T @ X[keep] + Lam * np.eye(12), X[keep].T @ y[keep])
        np.testing.assert_allclose(theta + rif[i], loo, rtol=1e-10, atol=1e-12)


def test_if_and_rif_agree_when_leverages_are_tiny():
    X, y = synthetic(20000, 4, seed=6)
    a = Attribution(X, y, fit_logistic(X, y, 1e-3).theta, 1e-3)
    assert a.h.max() < 2e-3
    np.testing.assert_allclose(a.RIF, a.IF, rtol=2.5e-3)
    T = np.arange(0, 20000, 97)
    actual = refit_without(X, y, 1e-3, a.theta, T).theta - a.theta
    for est in (a.set_if(T), a.set_rif(T)):
        assert np.linalg.norm(est - actual) <= 0.05 * np.linalg.norm(actual)


def test_removal_raises_own_loss_first_order(fitted):
    X, y, lam, theta, a = fitted
    own = np.einsum("ij,ij->i", a.G, a.IF)                 # gᵢᵀH⁻¹gᵢ ≥ 0
    assert np.all(own >= 0)
    for i in np.argsort(-own)[:3]:
        th = refit_without(X, y, lam, theta, np.array([i])).theta
        change = (sample_losses(X[i] @ th, y[i]) + 0.5 * lam * th @ th) - (
            sample_losses(X[i] @ theta, y[i]) + 0.5 * lam * theta @ theta)
        assert change > 0
        assert np.dot(th - theta, a.IF[i]) > 0                 # same direction (+ sign convention)


def test_effects_nonlinear_vs_linear_and_self_loss(fitted):
    X, y, lam, theta, a = fitted
    eff = Effects(X, y, X[:10], y[:10], theta, lam, a.H)
    D = 1e-5 * np.random.default_rng(0).standard_normal((3, X.shape[1]))
    v = eff(D)
    for m in ("test_prediction", "test_loss"):
        np.testing.assert_allclose(v[m], v[m + "_lin"], rtol=1e-3)
    np.testing.assert_allclose(v["self_loss"], v["self_loss_lin"], rtol=1e-3)   # ∇ = 0: quadratic
    # self-loss is n × the objective change, removed samples included
    d = np.random.default_rng(1).standard_normal(X.shape[1]) * 0.3
    assert eff(d[None])["self_loss"][0] == pytest.approx(
        len(y) * (objective(theta + d, X, y, lam) - objective(theta, X, y, lam)), rel=1e-9)


def test_high_dimensional_if_underestimates():
    """(f) n = 2d, small λ: s_IF < 1 < 1/(1 − mean h) on random removals."""
    X, y = synthetic(200, 100, seed=7, scale=3.0)
    lam = 1e-3
    a = Attribution(X, y, fit_logistic(X, y, lam).theta, lam)
    rng = np.random.default_rng(0)
    est, act = [], []
    for k in (1, 2, 4, 6, 8, 10):
        T = np.sort(rng.choice(200, k, replace=False))
        act.append(X[:50] @ (refit_without(X, y, lam, a.theta, T).theta - a.theta))
        est.append(X[:50] @ a.set_if(T))
    s_if = slope(np.concatenate(est), np.concatenate(act))
    assert s_if < 1 < 1 / (1 - a.h.mean())


def test_slope_and_pearson():
    a = np.array([1.0, 2.0, -1.0])
    assert slope(0.5 * a, a) == pytest.approx(0.5)
    assert pearson(3 * a + 1, a) == pytest.approx(1.0)
    assert np.isnan(slope(a, np.zeros(3))) and np.isnan(pearson(a[:1], a[:1]))


def test_removal_sizes_and_fraction_validation():
    k = removal_sizes(62, (0.001, 0.05), 40)
    assert k.min() >= 1 and len(np.unique(k)) == len(k) and k.max() == 3
    for bad in ((0.0, 0.05), (0.01, 1.0), (-0.1, 0.2), (0.2, 0.1), 1.5, "x"):
        with pytest.raises(UserError):
            validate_fraction(bad)


def test_top_strategies_draw_k_from_top_2k():
    rng = np.random.default_rng(0)
    scores = np.arange(100.0)
    for k in (1, 5, 20):
        T = top_from_2k(scores, k, rng)
        assert len(T) == k and len(set(T)) == k and T.min() >= 100 - 2 * k
    X = rng.standard_normal((50, 3))
    sc = {"loss": rng.random(50), "test_loss": rng.standard_normal(50), "test_pred": rng.standard_normal(50)}
    neg = removal_set("top_test_pred_neg", 4, X, sc, rng)
    assert set(neg) <= set(np.argsort(sc["test_pred"])[:8])
    l2 = removal_set("cluster_l2", 5, X, sc, rng)
    assert len(l2) == 5
