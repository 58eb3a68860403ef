"""Reference HMC, mean-field ADVI and the RealNVP flow on targets with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from methods.mixture_vi.advi import Adam, advi_gradients, neg_elbo
from methods.mixture_vi.hmc import run_hmc, split_rhat
from methods.mixture_vi.targets import DiagonalGaussian


def test_hmc_samples_a_badly_scaled_gaussian():
    target = DiagonalGaussian(np.array([1.0, -2.0, 0.5]), np.array([0.01, 1.0, 9.0]))
    rng = np.random.default_rng(0)
    out = run_hmc(target.log_prob, target.score, rng.uniform(-2, 2, (4, 3)), 400, 600, 10, rng)
    draws = out["draws"].reshape(-1, 3)
    np.testing.assert_allclose(draws.mean(0), target.mean, atol=0.25)
    np.testing.assert_allclose(draws.var(0) / target.var, 1.0, atol=0.3)
    assert 0.55 < out["accept"] < 0.95
    assert split_rhat(out["draws"]) < 1.1


def test_split_rhat_flags_chains_stuck_apart():
    rng = np.random.default_rng(1)
    draws = rng.standard_normal((200, 4, 1)) + np.array([0, 0, 5, 5])[None, :, None]
    assert split_rhat(draws) > 1.5


def test_advi_gradients_are_exact_for_a_gaussian_target_and_converge():
    target = DiagonalGaussian(np.array([1.0, -1.0]), np.array([0.5, 2.0]))
    rng = np.random.default_rng(2)
    xi = rng.standard_normal((200000, 2))
    mu, om = np.zeros(2), np.zeros(2)
    g_mu, g_om = advi_gradients(mu, om, xi, target.score)
    np.testing.assert_allclose(g_mu, -(target.mean - mu) / target.var, atol=0.02)   # ∇μ = Σ⁻¹(μ - m)
    np.testing.assert_allclose(g_om, np.exp(2 * om) / target.var - 1.0, atol=0.02)  # ∇ω = σ²/s² - 1
    opt, p = Adam(4, 0.05), np.zeros(4)
    for _ in range(3000):
        gm, go = advi_gradients(p[:2], p[2:], rng.standard_normal((10, 2)), target.score)
        p = opt.step(p, np.concatenate([gm, go]))
    np.testing.assert_allclose(p[:2], target.mean, atol=0.1)
    np.testing.assert_allclose(np.exp(2 * p[2:]), target.var, rtol=0.2)
    assert neg_elbo(p[:2], p[2:], rng.standard_normal((2000, 2)), target.log_prob) == pytest.approx(0.0, abs=0.05)


def test_realnvp_is_invertible_has_the_papers_size_and_learns_a_gaussian():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from methods.mixture_vi.flow import RealNVP, flow_kl, surrogate_loss

    torch.manual_seed(0)
    flow = RealNVP(2, 4, 124).double()
    assert flow.n_params == 4976                      # the paper's count for d = 2
    for layer in flow.layers:                         # perturb the zero-initialised outputs
        for net in (layer.s, layer.t):
            torch.nn.init.normal_(net[2].weight, std=0.1)
    z = torch.randn(50, 2, dtype=torch.float64)
    x, logq = flow(z)
    torch.testing.assert_close(flow.log_prob(x), logq)
    target = DiagonalGaussian(np.array([2.0, -1.0]), np.array([0.5, 2.0]))
    flow = RealNVP(2, 2, 16).double()
    opt = torch.optim.Adam(flow.parameters(), lr=3e-2)
    z_kl = torch.randn(1000, 2, dtype=torch.float64)
    before = flow_kl(flow, z_kl, target.log_prob)
    for _ in range(150):
        opt.zero_grad()
        surrogate_loss(flow, torch.randn(100, 2, dtype=torch.float64), target.score).backward()
        opt.step()
    assert flow_kl(flow, z_kl, target.log_prob) < 0.05 < before
