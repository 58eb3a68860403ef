"""Closed forms, gradient checks, invariants and the pitfalls of section 5 of the mixture-vi spec."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from methods.mixture_vi import updates
from methods.mixture_vi.fit import CRN, FullMixture, IsoMixture, fit_mixture, kl_estimate, step
from methods.mixture_vi.mixture import (full_logpdf_and_score, full_stein_stats, iso_logpdf_and_score,
                                        iso_stein_stats)
from methods.mixture_vi.targets import (BimodalTarget, DiagonalGaussian, Funnel, GaussianMixture,
                                        LogisticPosterior, SinhArcsinh, kmeans_errors, random_mixture)


def fd_score(log_prob, x, h=1e-5):
    g = np.zeros_like(x)
    for i in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[i] = h
        g[:, i] = (log_prob(x + e) - log_prob(x - e)) / (2 * h)
    return g


# -- the mixture family ----------------------------------------------------------------------------

def test_iso_logpdf_matches_scipy_and_score_matches_finite_differences():
    rng = np.random.default_rng(0)
    means, eps = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, 4)
    x = rng.normal(size=(7, 3))
    logq, score = iso_logpdf_and_score(x, means, eps)
    ref = np.log(np.mean([multivariate_normal(m, e * np.eye(3)).pdf(x) for m, e in zip(means, eps)], axis=0))
    np.testing.assert_allclose(logq, ref, rtol=1e-10)
    np.testing.assert_allclose(score, fd_score(lambda z: iso_logpdf_and_score(z, means, eps)[0], x), atol=1e-6)


def test_full_logpdf_matches_scipy_and_score_matches_finite_differences():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 2, 2))
    cov = a @ a.transpose(0, 2, 1) + 0.3 * np.eye(2)
    means = rng.normal(size=(3, 2))
    fam = FullMixture(means, cov)
    x = rng.normal(size=(5, 2))
    logq, score = full_logpdf_and_score(x, means, fam.chol_inv, fam.logdet)
    ref = np.log(np.mean([multivariate_normal(m, c).pdf(x) for m, c in zip(means, cov)], axis=0))
    np.testing.assert_allclose(logq, ref, rtol=1e-10)
    np.testing.assert_allclose(score, fd_score(fam.log_q, x), atol=1e-6)


def test_mixture_score_is_stable_far_from_every_component():
    """Pitfall: the naive ratio of sums is 0/0 far away; softmax responsibilities are not."""
    means, eps = np.array([[0.0, 0.0], [3.0, 0.0]]), np.array([0.01, 0.02])
    x = np.array([[1e3, -1e3], [5e2, 0.0]])
    logq, score = iso_logpdf_and_score(x, means, eps)
    assert np.all(np.isfinite(logq)) and np.all(np.isfinite(score))
    np.testing.assert_allclose(score[1], -(x[1] - means[1]) / eps[1])   # the nearer component dominates


# -- Stein gradients vs finite differences of the exact KL (1-D quadrature) ------------------------

def _kl_quadrature(means, eps, target):
    x = np.linspace(-25, 25, 40001)[:, None]
    logq, _ = iso_logpdf_and_score(x, means, eps)
    q = np.exp(logq)
    return np.trapezoid(q * (logq - target.log_prob(x)), x[:, 0])


def test_stein_gradients_match_finite_differences_of_the_kl():
    target = GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0], [1.5]]), np.array([[[0.5]], [[1.2]]]))
    means, eps = np.array([[-1.0], [0.5], [2.5]]), np.array([0.4, 1.0, 0.7])
    n = len(means)
    xi = norm.ppf((np.arange(20000) + 0.5) / 20000)[:, None]          # quasi-exact expectations
    G, S = iso_stein_stats(means, eps, xi, target.score)
    h = 1e-4
    for j in range(n):
        dm = np.zeros_like(means)
        dm[j] = h
        d_mean = (_kl_quadrature(means + dm, eps, target) - _kl_quadrature(means - dm, eps, target)) / (2 * h)
        de = np.zeros_like(eps)
        de[j] = h
        d_eps = (_kl_quadrature(means, eps + de, target) - _kl_quadrature(means, eps - de, target)) / (2 * h)
        assert G[j, 0] / n == pytest.approx(d_mean, abs=2e-4)                  # ∇_m F = G / N
        assert S[j] / (2 * n * eps[j]) == pytest.approx(d_eps, abs=2e-4)      # ∂_ε F = S / (2Nε)


def test_exact_stats_agree_with_monte_carlo_for_one_gaussian():
    rng = np.random.default_rng(2)
    target = DiagonalGaussian(rng.normal(size=4), rng.uniform(0.5, 3, 4))
    means, eps = rng.normal(size=(1, 4)), np.array([0.8])
    G_ex, S_ex = target.exact_stats(means, eps)
    G, S = iso_stein_stats(means, eps, rng.standard_normal((200000, 4)), target.score)
    np.testing.assert_allclose(G, G_ex, atol=0.02)
    np.testing.assert_allclose(S, S_ex, atol=0.05)


# -- the updates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("algo", ["ibw", "md"])
def test_fixed_point_is_the_harmonic_mean_of_variances(algo):
    """Pitfall: without the 1/d of the variance step this diverges in d = 10."""
    rng = np.random.default_rng(3)
    d = 10
    target = DiagonalGaussian(rng.normal(size=d), rng.uniform(0.5, 3.0, d))
    fam = IsoMixture(rng.uniform(-5, 5, (1, d)), np.array([1.0]))
    for _ in range(1500):
        fam, _ = step(algo, fam, target, None, 0.1, exact=True)
    assert fam.eps[0] == pytest.approx(d / np.sum(1 / target.var), rel=1e-10)
    np.testing.assert_allclose(fam.means[0], target.mean, atol=1e-8)


def test_one_component_ibw_and_ngd_closed_forms():
    """N = 1, π = N(μ, σ² I): G = (m-μ)/σ², S = -d + dε/σ²; IBW ε ← ε(1 - γ(1/σ² - 1/ε))²,
    NGD 1/ε ← (1-γ)/ε + γ/σ²."""
    d, sigma2, eps, lr = 3, 2.0, 0.5, 0.1
    S = np.array([-d + d * eps / sigma2])
    assert updates.ibw_variances(np.array([eps]), S, lr, d)[0] == pytest.approx(eps * (1 - lr * (1 / sigma2 - 1 / eps)) ** 2)
    _, e_new = updates.ngd_step(np.zeros((1, d)), np.array([eps]), np.zeros((1, d)), S, lr, d)
    assert 1 / e_new[0] == pytest.approx((1 - lr) / eps + lr / sigma2)
    md, _ = updates.md_variances(np.array([eps]), S, lr, d)
    assert md[0] == pytest.approx(eps * np.exp(-lr * (1 / sigma2 - 1 / eps)))


def test_component_update_does_not_depend_on_n_when_components_are_far_apart():
    """Pitfall: the 1/N of ∇_{m_j}F and the N of the step cancel."""
    far = 200.0
    target2 = GaussianMixture(np.ones(2), np.array([[-far, 0.0], [far, 0.0]]), np.stack([np.eye(2)] * 2))
    target1 = GaussianMixture(np.ones(1), np.array([[-far, 0.0]]), np.eye(2)[None])
    xi = np.random.default_rng(4).standard_normal((50, 2))
    two = IsoMixture(np.array([[-far + 1.0, 0.5], [far - 0.7, 0.2]]), np.array([0.5, 2.0]))
    one = IsoMixture(two.means[:1], two.eps[:1])
    for algo in ("ibw", "md", "ngd"):
        a, _ = step(algo, two, target2, xi, 0.1)
        b, _ = step(algo, one, target1, xi, 0.1)
        np.testing.assert_allclose(a.means[0], b.means[0], rtol=1e-9)
        np.testing.assert_allclose(a.eps[0], b.eps[0], rtol=1e-9)


def test_ibw_and_md_stay_positive_and_md_clipping_is_counted():
    eps = np.array([1e-6, 1.0, 5.0])
    S = np.array([-50.0, 300.0, 1e3])          # IBW "reflects" when γS/(dε) > 1
    assert np.all(updates.ibw_variances(eps, S, 0.1, 2) > 0)
    new, clipped = updates.md_variances(eps, S, 0.1, 2)
    assert np.all(new > 0) and np.all(np.isfinite(new)) and clipped == 1


def test_ngd_negative_variance_is_detected_not_hidden():
    with pytest.raises(updates.NegativeVariance):
        updates.ngd_step(np.zeros((2, 2)), np.array([1.0, 1.0]), np.zeros((2, 2)), np.array([-100.0, 0.0]), 0.1, 2)
    # the loop stops and keeps the last valid parameters
    target = GaussianMixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None] * 1e-4)
    fam = IsoMixture(np.zeros((1, 2)), np.array([50.0]))
    res = fit_mixture("ngd", fam, target, 1.0, 10, 5, np.random.default_rng(0), CRN.draw(1, 10, 2, np.random.default_rng(1)), 1)
    assert res.stopped.startswith("NegativeVariance") or res.n_iter_done == 10
    assert np.all(res.fam.eps > 0)


def test_shared_variance_keeps_one_value_and_matches_one_component():
    rng = np.random.default_rng(5)
    target = random_mixture(2, 3, 5.0, 2.0, "diag", rng)
    fam = IsoMixture(rng.uniform(-5, 5, (4, 2)), np.full(4, 1.5))
    xi = rng.standard_normal((10, 2))
    for algo in ("ibw_s", "md_s"):
        new, _ = step(algo, fam, target, xi, 0.1)
        assert np.ptp(new.eps) == 0 and new.eps[0] > 0
    one = IsoMixture(fam.means[:1], fam.eps[:1])
    t1 = GaussianMixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None])
    np.testing.assert_allclose(step("ibw_s", one, t1, xi, 0.1)[0].eps, step("ibw", one, t1, xi, 0.1)[0].eps)


def test_bw_uses_matrix_products_and_reaches_a_correlated_covariance():
    """Pitfall: the elementwise M * Σ * M of the reference code is not the BW update; with exact
    H = Σ_π⁻¹ - Σ⁻¹ the matrix-product iteration converges to a non-diagonal Σ_π."""
    target_cov = np.array([[2.0, 0.9], [0.9, 1.0]])
    cov = np.eye(2)[None].copy()
    for _ in range(500):
        H = np.linalg.inv(target_cov)[None] - np.linalg.inv(cov)
        cov = updates.bw_covariances(cov, H, 0.1)
        assert np.allclose(cov, cov.transpose(0, 2, 1)) and np.all(np.linalg.eigvalsh(cov) > 0)
    np.testing.assert_allclose(cov[0], target_cov, atol=1e-8)
    M = np.eye(2) - 0.1 * (np.linalg.inv(target_cov) - np.eye(2))
    assert not np.allclose(M @ np.eye(2) @ M, M * np.eye(2) * M)


def test_full_stein_stats_estimate_hessian_minus_inverse_covariance():
    """For one Gaussian component and a Gaussian target, H = E[δ ξᵀ] L⁻¹ ≈ Σ_π⁻¹ - Σ⁻¹."""
    rng = np.random.default_rng(6)
    tc = np.array([[1.5, 0.4], [0.4, 0.8]])
    target = GaussianMixture(np.ones(1), np.zeros((1, 2)), tc[None])
    cov = np.array([[[0.7, -0.2], [-0.2, 1.3]]])
    fam = FullMixture(np.array([[0.3, -0.1]]), cov)
    G, H = full_stein_stats(fam.means, fam.chol, fam.chol_inv, fam.logdet, rng.standard_normal((200000, 2)), target.score)
    np.testing.assert_allclose(H[0], np.linalg.inv(tc) - np.linalg.inv(cov[0]), atol=0.02)
    np.testing.assert_allclose(G[0], np.linalg.solve(tc, fam.means[0]), atol=0.02)


# -- targets ---------------------------------------------------------------------------------------

def _logistic_targets(rng):
    X, Xt = rng.normal(size=(40, 3)), rng.normal(size=(10, 3))
    yb = (X[:, 0] > 0).astype(int)
    ym = rng.integers(0, 3, 40)
    return [LogisticPosterior(X, yb, Xt, (Xt[:, 0] > 0).astype(int), 2, 100.0),
            LogisticPosterior(X, ym, Xt, rng.integers(0, 3, 10), 3, 100.0)]


def test_every_target_score_matches_finite_differences():
    rng = np.random.default_rng(7)
    targets = [random_mixture(3, 4, 5.0, 2.0, c, rng) for c in ("diag", "full", "iso")]
    targets += [Funnel(1.2), SinhArcsinh((-0.2, -0.5)), BimodalTarget(0.1, 8.0, 0.5)] + _logistic_targets(rng)
    for t in targets:
        x = rng.normal(size=(6, t.dim))
        np.testing.assert_allclose(t.score(x), fd_score(t.log_prob, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", [Funnel(1.2), SinhArcsinh((-0.2, -0.5))])
def test_normalised_2d_targets_integrate_to_one_and_sample_correctly(target):
    xs = np.linspace(-12, 12, 1201)
    gx, gy = np.meshgrid(xs, xs)
    dens = np.exp(target.log_prob(np.stack([gx.ravel(), gy.ravel()], 1))).reshape(gx.shape)
    assert np.trapezoid(np.trapezoid(dens, xs, axis=1), xs) == pytest.approx(1.0, abs=5e-3)
    s = target.sample(200000, np.random.default_rng(0))
    mean_grid = np.trapezoid(np.trapezoid(dens * gx, xs, axis=1), xs)
    assert s[:, 0].mean() == pytest.approx(mean_grid, abs=0.02)


def test_funnel_score_stays_finite_deep_in_the_neck():
    x = np.array([[-200.0, 1.0], [-30.0, 0.5]])
    assert np.all(np.isfinite(Funnel(1.2).score(x)))


def test_logistic_likelihood_uses_logaddexp():
    t = _logistic_targets(np.random.default_rng(8))[0]
    z = np.full((1, 3), 500.0)                     # logits of several hundred: log(1 + e^t) overflows
    assert np.all(np.isfinite(t.log_prob(z))) and np.all(np.isfinite(t.score(z)))


def test_kl_is_zero_when_q_equals_the_target_and_crn_makes_it_deterministic():
    means, eps = np.array([[0.0, 1.0], [3.0, -1.0]]), np.array([0.5, 2.0])
    target = GaussianMixture(np.ones(2), means, eps[:, None, None] * np.eye(2))
    fam = IsoMixture(means, eps)
    crn = CRN.draw(2, 500, 2, np.random.default_rng(0))
    assert kl_estimate(fam, target, crn) == pytest.approx(0.0, abs=1e-12)
    other = IsoMixture(means + 0.3, eps)
    assert kl_estimate(other, target, crn) == kl_estimate(other, target, crn) > 0


def test_kmeans_errors_vanish_for_the_same_distribution():
    t = BimodalTarget(0.1, 8.0, 0.5)
    rng = np.random.default_rng(0)
    e1, e2 = kmeans_errors(t.sample(10000, rng), t.sample(10000, rng), rng)
    assert e1 < 0.1 and e2 < 0.02
    one_mode = t.means[1] + rng.standard_normal((10000, 2))
    assert kmeans_errors(t.sample(10000, rng), one_mode, rng)[0] > 1.0


def test_bimodal_init_puts_round_np_components_near_the_light_mode():
    t = BimodalTarget(0.1, 8.0, 0.5)
    m = t.init_means(20, 1.0, np.random.default_rng(0))
    assert np.sum(m[:, 0] < 0) == 2
    assert np.sum(t.init_means(2, 1.0, np.random.default_rng(0))[:, 0] < 0) == 0
