"""The quasi-self-concordant losses and the trust-region method (E4, [inferred])."""
from __future__ import annotations

import numpy as np
import pytest

from methods.lewis.instances import gaussian_instance
from methods.lewis.qsc import (LOSSES, QSC_M, box_qp_cvxpy, box_qp_irls, loss_terms, objective,
                               qsc_cvxpy, trust_region)
from methods.lewis.weights import lewis_overestimate


@pytest.mark.parametrize("loss", LOSSES)
def test_derivatives_finite_differences_and_qsc(loss):
    """(g) f', f'', f''' by central differences; |f'''| ≤ M f'' on a grid."""
    t = np.linspace(-8, 8, 321)
    h = 1e-5
    f, f1, f2, f3 = loss_terms(loss, t, 3)
    fp, fm = loss_terms(loss, t + h, 3), loss_terms(loss, t - h, 3)
    for k, deriv in ((0, f1), (1, f2), (2, f3)):
        fd = (fp[k] - fm[k]) / (2 * h)
        np.testing.assert_allclose(fd, deriv, rtol=1e-6, atol=1e-8)
    assert np.all(np.abs(f3) <= QSC_M[loss] * f2 * (1 + 1e-12))
    assert np.all(np.isfinite(loss_terms(loss, np.array([-700.0, 700.0]), 3)[2]))


def test_logistic2_closed_form():
    t = np.array([-3.0, 0.0, 2.5])
    f = loss_terms("logistic2", t, 0)[0]
    np.testing.assert_allclose(f, np.log1p(np.exp(t)) + np.log1p(np.exp(-t)), rtol=1e-14)


@pytest.fixture
def qinst():
    return gaussian_instance(np.random.default_rng(0), 300, 5, 2, x_scale=1.0)


def test_box_qp_irls_feasible_descent_and_close_to_cvxpy(qinst):
    A, b, N, v = qinst
    _, f1, f2 = loss_terms("cosh", A @ np.zeros(5) - b, 2)
    g = A.T @ f1
    R = 0.05                                        # small box: the Newton step is outside
    step, k = box_qp_irls(A, g, f2, N, R, lewis_overestimate(A, 30)[0], tol=1e-6, max_iter=200)
    assert k > 1 and np.abs(A @ step).max() <= R * (1 + 1e-12)
    assert np.abs(N @ step).max() <= 1e-10
    q = lambda s: g @ s + 0.5 * np.dot(f2, (A @ s) ** 2)
    ref, _ = box_qp_cvxpy(A, g, f2, N, R)
    assert q(step) < 0 and q(step) <= q(ref) + 1e-3 * abs(q(ref))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("sub", ["irls", "cvxpy"])
def test_trust_region_matches_direct_solve(qinst, loss, sub):
    A, b, N, v = qinst
    out = trust_region(A, b, loss, N, v, sub, lewis_overestimate(A, 30)[0])
    ref = objective(loss, A, b, qsc_cvxpy(A, b, loss, N, v, tight=True))
    assert out["converged"] and out["outer_iters"] <= 50
    assert abs(out["F"] - ref) <= 1e-6 * abs(ref)
    assert np.abs(N @ out["x"] - v).max() <= 1e-10
    assert all(np.diff(out["trace"]) <= 1e-12 * abs(ref))   # monotone: steps only accepted on descent
