"""Closed forms, gradient checks and invariants of the xnet package (spec §5)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from methods.xnet.cauchy import CauchyLayer, XNet, cauchy, cauchy_features
from methods.xnet.kan import KAN, KANLayer, bspline_basis, lstsq, spline_1d, spline_lstsq_coef, uniform_knots
from methods.xnet.models import build_model, n_params
from methods.xnet.pde import collocation, exact_solution, pinn_loss, residual, eval_grid
from methods.xnet.ppo import gae, learning_curve, ppo_loss
from methods.xnet.targets import FunctionTarget, heaviside
from runner.api import UserError

torch.set_num_threads(1)
D = torch.float64


# -- the Cauchy activation --------------------------------------------------------------------
def test_cauchy_at_zero_and_maximum():
    lam1, lam2, d = torch.tensor(1.7, dtype=D), torch.tensor(0.3, dtype=D), torch.tensor(0.4, dtype=D)
    assert torch.isclose(cauchy(torch.tensor(0.0, dtype=D), lam1, lam2, d), lam2 / d ** 2)
    s = torch.linspace(-5, 5, 200001, dtype=D)
    phi = cauchy(s, lam1, torch.tensor(0.0, dtype=D), d)
    i = int(phi.argmax())
    assert abs(float(s[i]) - 0.4) < 1e-4                       # argmax at s = |d|
    assert abs(float(phi[i]) - 1.7 / (2 * 0.4)) < 1e-8          # max = λ1 / (2|d|)


def test_cauchy_derivative_closed_form():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(50, dtype=D, generator=g).requires_grad_(True)
    lam1, lam2, d = 0.8, -1.3, 0.6
    phi = cauchy(s, torch.tensor(lam1, dtype=D), torch.tensor(lam2, dtype=D), torch.tensor(d, dtype=D))
    (grad,) = torch.autograd.grad(phi.sum(), s)
    s = s.detach()
    q = s ** 2 + d ** 2
    closed = lam1 / q - 2 * s * (lam1 * s + lam2) / q ** 2    # φ'(s), spec §5
    assert torch.allclose(grad, closed, rtol=1e-9, atol=1e-12)


def test_gradcheck_all_parameters():
    torch.manual_seed(0)
    layer = CauchyLayer(3, 4).double()
    x = torch.randn(6, 3, dtype=D)
    params = (layer.linear.weight, layer.linear.bias, layer.lam1, layer.lam2, layer.d)

    def f(w, b, l1, l2, d):
        return cauchy(x @ w.T + b, l1, l2, d)

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in params)
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)  # PINNs differentiate the input derivatives again


def test_complex_cauchy_identity():
    rng = np.random.default_rng(1)
    p, q, a, d, x = rng.normal(size=(5, 100))
    re = ((p + 1j * q) / (a + 1j * d - x)).real
    phi = cauchy(torch.tensor(x - a), torch.tensor(-p), torch.tensor(q * d), torch.tensor(d)).numpy()
    assert np.allclose(re, phi, rtol=1e-9, atol=1e-9)


def test_d_to_zero_is_safe_and_sign_free():
    s = torch.tensor([0.0, 0.5], dtype=D)
    one = torch.tensor(1.0, dtype=D)
    assert torch.isfinite(cauchy(s, one, one, torch.tensor(0.0, dtype=D))).all()
    assert torch.equal(cauchy(s, one, one, torch.tensor(0.3, dtype=D)), cauchy(s, one, one, torch.tensor(-0.3, dtype=D)))


def test_xnet_least_squares_oracle_reaches_1e10():
    """Variable projection: d log-spaced in [3e-3, 3], w = 1, b = 0, optimal output layer."""
    x = torch.linspace(-1, 1, 1000, dtype=D)[:, None]
    y = (x[:, 0] > 0).to(D)
    n = 64
    feats = cauchy_features(x, torch.ones(n, 1, dtype=D), torch.zeros(n, dtype=D),
                            torch.tensor(np.geomspace(3e-3, 3, n)))
    a = torch.cat([feats, torch.ones(len(x), 1, dtype=D)], 1)
    pred = a @ lstsq(a, y[:, None])
    assert float((pred[:, 0] - y).pow(2).mean()) < 1e-10


def test_parameter_counts():
    assert n_params(build_model("xnet", 1, [64], 1)) == 64 * 2 + 3 * 64 + 64 + 1  # W, b, λ1, λ2, d, V, c
    assert n_params(build_model("mlp", 1, [64], 1)) == 193
    assert n_params(build_model("kan", 1, [], 1, grid=200, k=3)) == 204
    assert n_params(build_model("kan", 2, [10], 1, grid=5, k=3)) == (2 * 10 + 10) * 9
    assert all(p.dtype == D for p in build_model("xnet", 2, [5], 1).parameters())


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("xnet", 1, [8], 1, seed=5)
    after = torch.rand(1)
    b = build_model("xnet", 1, [8], 1, seed=5)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_bad_architecture_is_a_user_error():
    with pytest.raises(UserError):
        build_model("transformer", 1, [4], 1)
    with pytest.raises(UserError):
        build_model("mlp", 1, [4], 1, activation="gelu")


# -- B-splines and KAN ------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3])  # (k = 0 leaves the right end point x = hi uncovered)
def test_bspline_partition_of_unity(k):
    x = torch.linspace(-1, 1, 501, dtype=D)[:, None]
    b = bspline_basis(x, uniform_knots(7, k)[None, :], k)
    assert b.shape == (501, 1, 7 + k)
    assert torch.allclose(b.sum(-1), torch.ones(501, 1, dtype=D), atol=1e-12)
    assert (b >= -1e-15).all()


def test_bspline_zero_outside_extended_grid():
    """Pitfall: inputs far outside grid_range get zero spline bases (only silu survives)."""
    b = bspline_basis(torch.tensor([[5.0], [-5.0]], dtype=D), uniform_knots(5, 3)[None, :], 3)
    assert float(b.abs().max()) == 0.0


def test_kan_least_squares_heaviside_matches_paper():
    """The paper's KAN [1,1] G=200 number is the cubic-spline least-squares optimum (5.979e-4)."""
    x = torch.linspace(-1, 1, 1000, dtype=D)
    y = (x > 0).to(D)
    mse = float((spline_1d(x, spline_lstsq_coef(x, y, 200, 3), 200, 3) - y).pow(2).mean())
    assert abs(mse - 5.979e-4) / 5.979e-4 < 2e-3


def test_kan_update_grid_preserves_a_cubic():
    """Splines reproduce cubics exactly, so the refit onto a new grid must keep the function."""
    layer = KANLayer(1, 1, grid=5, k=3).double()
    x = torch.linspace(-1, 1, 200, dtype=D)[:, None]
    cubic = x[:, 0] ** 3 - x[:, 0]
    with torch.no_grad():
        a = bspline_basis(x, layer.knots, 3)[:, 0, :]
        layer.spline_weight.copy_(lstsq(a, cubic[:, None]).T[:, None, :])
    z = torch.linspace(-0.5, 0.7, 100, dtype=D)[:, None]
    before = layer(z).detach()
    layer.update_grid(z)
    assert abs(float(layer.knots[0, 3]) - (-0.5 - 0.012)) < 1e-12   # grid now on the data (1% margin)
    assert torch.allclose(layer(z).detach(), before, atol=1e-10)


def test_kan_forward_is_sum_over_edges():
    torch.manual_seed(0)
    net = KAN(2, [], 1, grid=4).double()
    x = torch.rand(7, 2, dtype=D) * 2 - 1
    layer = net.layers[0]
    parts = [torch.nn.functional.silu(x[:, i]) * layer.base_weight[0, i]
             + bspline_basis(x[:, i:i + 1], layer.knots[i:i + 1], 3)[:, 0, :] @ layer.spline_weight[0, i]
             for i in range(2)]
    assert torch.allclose(net(x)[:, 0], parts[0] + parts[1], atol=1e-12)


# -- targets ----------------------------------------------------------------------------------
def test_heaviside_grid_and_convention():
    data = FunctionTarget("heaviside").load()
    assert not np.any(data["x_train"] == 0)                   # linspace(−1,1,1000) misses 0
    assert heaviside(np.array([[0.0]]))[0] == 0.5
    assert np.array_equal(data["x_train"][:, 0], np.linspace(-1, 1, 1000))


def test_function_target_is_deterministic_and_checks_values():
    a, b = FunctionTarget("f2", train_grid=False).load(), FunctionTarget("f2", train_grid=False).load()
    assert np.array_equal(a["x_test"], b["x_test"]) and a["x_train"].shape == (1000, 4)
    with pytest.raises(UserError):
        FunctionTarget("sinc")
    with pytest.raises(UserError):
        FunctionTarget("f1", noise=float("nan"))


# -- PINNs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("pde", ["poisson", "heat"])
def test_exact_solution_has_zero_residual_and_loss(pde):
    pts = collocation(pde, 21)
    assert pts["interior"].shape == (441, 2)

    def u_exact(z):
        return exact_solution(pde, z)

    assert float(residual(pde, u_exact, eval_grid(pde, 31)).detach().abs().max()) < 1e-10
    assert float(pinn_loss(pde, u_exact, pts).detach()) < 1e-20


def test_residual_uses_true_second_derivatives():
    """u = x² + 3y²: Δu = 8 and u_t − u_xx = 6 − 2 (heat with y as t); second-order terms kept."""
    def u(z):
        return z[:, 0] ** 2 + 3 * z[:, 1] ** 2

    z = torch.rand(10, 2, dtype=D)
    f = -2 * math.pi ** 2 * torch.sin(math.pi * z[:, 0]) * torch.sin(math.pi * z[:, 1])
    assert torch.allclose(residual("poisson", u, z), 8 - f)
    assert torch.allclose(residual("heat", u, z), 6 * z[:, 1] - 2)


def test_pinn_loss_is_differentiable_in_parameters():
    model = XNet(2, [5], 1).double()
    loss = pinn_loss("poisson", lambda z: model(z)[:, 0], collocation("poisson", 5))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert float(model.layers[0].d.grad.abs().sum()) > 0


# -- PPO --------------------------------------------------------------------------------------
def test_gae_limits():
    g = torch.Generator().manual_seed(0)
    r, v = torch.rand(6, 2, generator=g, dtype=D), torch.rand(6, 2, generator=g, dtype=D)
    dones = torch.zeros(6, 2, dtype=D)
    dones[3, 0] = 1.0                                          # obs[3] of env 0 starts a new episode
    nv, nd = torch.rand(2, generator=g, dtype=D), torch.zeros(2, dtype=D)
    gamma = 0.9
    adv1, ret1 = gae(r, v, dones, nv, nd, gamma, 1.0)          # λ = 1: discounted returns to go
    expect = torch.zeros(6, 2, dtype=D)
    for e in range(2):
        acc = nv[e]
        for t in reversed(range(6)):
            if t + 1 < 6 and dones[t + 1, e]:
                acc = torch.tensor(0.0, dtype=D)
            acc = r[t, e] + gamma * acc
            expect[t, e] = acc
    assert torch.allclose(ret1, expect)
    adv0, _ = gae(r, v, dones, nv, nd, gamma, 0.0)             # λ = 0: one-step TD errors
    assert torch.isclose(adv0[1, 1], r[1, 1] + gamma * v[2, 1] - v[1, 1])
    assert torch.isclose(adv0[2, 0], r[2, 0] - v[2, 0])         # the episode ended at step 2
    assert torch.isclose(adv0[5, 0], r[5, 0] + gamma * nv[0] - v[5, 0])


def test_ppo_loss_clipping():
    logits = torch.zeros(2, 2, dtype=D, requires_grad=True)
    acts = torch.tensor([0, 1])
    old = torch.log(torch.tensor([0.5, 0.5], dtype=D))
    adv = torch.tensor([1.0, -1.0], dtype=D)
    val = torch.zeros(2, dtype=D)
    loss, parts = ppo_loss(logits, acts, old, adv, val, val, val, 0.2, 0.0, 0.5)
    assert abs(parts["pg_loss"] - 0.0) < 1e-12 and abs(parts["entropy"] - math.log(2)) < 1e-12
    # ratio far above 1 + ε with a positive advantage: clipped, no policy gradient
    old_small = torch.log(torch.tensor([0.1, 0.5], dtype=D))
    loss, parts = ppo_loss(logits, acts[:1], old_small[:1], adv[:1], val[:1], val[:1], val[:1], 0.2, 0.0, 0.5)
    loss.backward()
    assert abs(parts["pg_loss"] + 1.2) < 1e-12
    assert float(logits.grad.abs().max()) == 0.0


def test_learning_curve_bins_and_carry():
    steps = np.array([10, 20, 250, 260])
    rets = np.array([1.0, 3.0, 5.0, 7.0])
    c = learning_curve(steps, rets, 400, n_bins=4)
    assert np.allclose(c, [2.0, 2.0, 6.0, 6.0])
