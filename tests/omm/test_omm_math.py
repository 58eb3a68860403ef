"""Closed forms, gradient checks and invariants of the OMM objectives (spec section 5)."""
import numpy as np
import pytest
import torch

from methods.omm import metrics as mx
from methods.omm import operators as ops
from methods.omm.objectives import joint_masks, objective, omm_p_loss, seq_moment
from methods.omm.training import matrix_factors, solve_matrix

torch.set_num_threads(1)


def _psd(d=12, seed=0, spectrum=None):
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.uniform(0.1, 2.0, d))[::-1] if spectrum is None else np.asarray(spectrum, float)
    return ops.random_symmetric(lam, rng), lam


def _grad(kind, V, A):
    Vt = torch.tensor(V, requires_grad=True)
    loss = objective(kind, *matrix_factors(Vt, torch.tensor(A)))
    (g,) = torch.autograd.grad(loss, Vt)
    return g.numpy()


@pytest.mark.parametrize("p", [1, 2, 3])
def test_omm_eq4_equals_eq5(p):
    A, _ = _psd()
    V = np.random.default_rng(1).standard_normal((12, 4)) * 0.4
    eq4 = float(omm_p_loss(torch.tensor(V.T @ V), torch.tensor(V.T @ A @ V), p))
    R = np.eye(12) - V @ V.T
    eq5 = np.trace(np.linalg.matrix_power(R, 2 * p) @ A) - np.trace(A)
    assert eq4 == pytest.approx(eq5, rel=1e-12, abs=1e-12)
    assert ops.omm_matrix_loss(V, A, p) == pytest.approx(eq5, rel=1e-12, abs=1e-12)


def test_omm_minimum_is_minus_sum_of_top_eigenvalues():
    A, lam = _psd()
    _, W = ops.top_eigh(A, 4)
    assert ops.omm_matrix_loss(W, A) == pytest.approx(-lam[:4].sum(), rel=1e-12)
    Q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((4, 4)))
    assert ops.omm_matrix_loss(W @ Q, A) == pytest.approx(-lam[:4].sum(), rel=1e-12)   # rotation-invariant
    V = W + 0.01 * np.random.default_rng(3).standard_normal(W.shape)
    assert ops.omm_matrix_loss(V, A) > -lam[:4].sum()


def test_omm1_gradient_closed_form():
    A, _ = _psd()
    V = np.random.default_rng(4).standard_normal((12, 4)) * 0.5
    P = V @ V.T
    expected = -2 * ((np.eye(12) - P) @ A @ V + A @ (np.eye(12) - P) @ V)
    np.testing.assert_allclose(_grad("omm", V, A), expected, atol=1e-10)


def test_seq_moment_has_full_value_and_triangular_gradients():
    L = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    R = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    M = seq_moment(L, R)
    torch.testing.assert_close(M, L.T @ R)
    M[2, 0].backward()              # <f_3, sg g_1>: gradient only to L column 3
    assert torch.count_nonzero(R.grad) == 0 and torch.count_nonzero(L.grad[:, [0, 1]]) == 0
    L.grad, R.grad = None, None
    seq_moment(L, R)[0, 2].backward()   # <sg f_1, g_3>: gradient only to R column 3
    assert torch.count_nonzero(L.grad) == 0 and torch.count_nonzero(R.grad[:, [0, 1]]) == 0


def test_sequential_nesting_gradient_eq7():
    """d/dv_i of L^seq = -2[(I - V_{1:i}V_{1:i}^T) A v_i + A (I - V_{1:i}V_{1:i}^T) v_i] for every i."""
    A, _ = _psd()
    V = np.random.default_rng(5).standard_normal((12, 5)) * 0.5
    g = _grad("omm_seq", V, A)
    assert float(objective("omm_seq", *matrix_factors(torch.tensor(V), torch.tensor(A)))) == pytest.approx(
        ops.omm_matrix_loss(V, A), rel=1e-12)
    for i in range(5):
        Pi = np.eye(12) - V[:, :i + 1] @ V[:, :i + 1].T
        np.testing.assert_allclose(g[:, i], -2 * (Pi @ A @ V[:, i] + A @ Pi @ V[:, i]), atol=1e-10)


def test_sanger_gradient_keeps_the_Av_term():
    """The Sanger surrogate's gradient is -2 (I - V_{1:i}V_{1:i}^T) A v_i (not the snippet's detached one)."""
    A, _ = _psd()
    V = np.random.default_rng(6).standard_normal((12, 5)) * 0.5
    g = _grad("sanger", V, A)
    for i in range(5):
        Pi = np.eye(12) - V[:, :i + 1] @ V[:, :i + 1].T
        np.testing.assert_allclose(g[:, i], -2 * Pi @ A @ V[:, i], atol=1e-10)
    assert np.abs(g).max() > 1e-3


def test_lora_seq_gradient_is_nested_lora():
    A, _ = _psd()
    V = np.random.default_rng(7).standard_normal((12, 4)) * 0.5
    g = _grad("lora_seq", V, A)
    for i in range(4):
        Vi = V[:, :i + 1]
        np.testing.assert_allclose(g[:, i], -4 * A @ V[:, i] + 4 * Vi @ Vi.T @ V[:, i], atol=1e-10)


def test_joint_loss_is_weighted_sum_of_nested_losses():
    A, _ = _psd()
    V = np.random.default_rng(8).standard_normal((12, 4)) * 0.5
    m, P = joint_masks(4)
    np.testing.assert_allclose(m.numpy(), [1.0, 0.75, 0.5, 0.25])
    np.testing.assert_allclose(P.numpy()[0], [1.0, 0.75, 0.5, 0.25])
    val = float(objective("omm_jnt", *matrix_factors(torch.tensor(V), torch.tensor(A))))
    assert val == pytest.approx(sum(ops.omm_matrix_loss(V[:, :i], A) for i in range(1, 5)) / 4, rel=1e-12)


def test_lora_optimum_norms_and_omm_penalty_identity():
    A, lam = _psd()
    _, W = ops.top_eigh(A, 3)
    g = _grad("lora_seq", W * np.sqrt(lam[:3]), A)      # f_i = sqrt(lambda_i) phi_i is stationary
    assert np.abs(g).max() < 1e-10
    V = np.random.default_rng(9).standard_normal((12, 3)) * 0.5
    kappa = 0.7
    lhs = ops.omm_matrix_loss(V, A + kappa * np.eye(12))
    rhs = ops.omm_matrix_loss(V, A) + kappa * np.linalg.norm(V.T @ V - np.eye(3)) ** 2 - kappa * 3
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("kind", ["omm_seq", "omm_jnt", "sanger"])
def test_nested_objectives_recover_ordered_eigenvectors(kind):
    """Theorem 2: with distinct eigenvalues nesting gives the ordered eigenvectors themselves."""
    A, lam = _psd(d=20, spectrum=0.7 ** np.arange(20))
    _, W = ops.top_eigh(A, 4)
    V0 = np.random.default_rng(10).standard_normal((20, 4)) / np.sqrt(20)
    V, _, div = solve_matrix(kind, A, V0, 1500, step=0.2)
    assert div < 0
    assert mx.aligned_cosines(V, W, lam[:4]).min() > 0.9999
    np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, atol=1e-4)


def test_plain_omm_gives_subspace_only():
    A, lam = _psd(d=20, spectrum=0.7 ** np.arange(20))
    _, W = ops.top_eigh(A, 4)
    V0 = np.random.default_rng(11).standard_normal((20, 4)) / np.sqrt(20)
    V, _, _ = solve_matrix("omm", A, V0, 1500, step=0.2)
    assert mx.subspace_distance(V, W) < 1e-10
    np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-8)


def test_non_psd_diverges_and_shift_fixes_it():
    """One negative eigenvalue makes OMM unbounded below; the shift A + kappa I restores convergence.

    From an init with a component beyond the barrier (|c| > 1 along the negative eigenvector)
    gradient descent runs off to infinity; with the shift it converges to the top-k subspace."""
    lam = np.r_[0.7 ** np.arange(19), -0.5]
    A, _ = _psd(d=20, spectrum=lam)
    w_neg = ops.top_eigh(-A, 1)[1][:, 0]
    _, W = ops.top_eigh(A, 3)
    V0 = np.random.default_rng(12).standard_normal((20, 3)) / np.sqrt(20)
    V0[:, 0] += 1.5 * w_neg
    _, _, div = solve_matrix("omm", A, V0, 2000, step=0.1)
    assert div >= 0
    V, _, div = solve_matrix("omm", A, V0, 2000, step=0.2 / 1.5, shift=0.5)
    assert div < 0 and mx.subspace_distance(V, W) < 1e-6


def test_inverse_trick_finds_bottom_eigenvectors():
    mu = 1.0 + np.arange(10) / 2.0
    Lop, _ = _psd(d=10, spectrum=mu)
    _, Wb = ops.top_eigh(-Lop, 3)
    G0 = np.random.default_rng(13).standard_normal((10, 3)) * 0.1
    G, _, div = solve_matrix("omm_seq", Lop, G0, 2500, step=0.3 / mu.max() ** 2, inverse=True)
    assert div < 0
    F = Lop @ G                                   # f = Lop g are the eigenvectors, g = phi / lambda
    assert mx.aligned_cosines(F, Wb, 1 / mu[:3]).min() > 0.999
    np.testing.assert_allclose(np.linalg.norm(F, axis=0), 1.0, atol=1e-3)


def test_metrics_invariances():
    rng = np.random.default_rng(14)
    Phi, _ = np.linalg.qr(rng.standard_normal((30, 4)))
    M = rng.standard_normal((4, 4))
    assert mx.subspace_distance(Phi @ M, Phi) == pytest.approx(0.0, abs=1e-12)
    other = np.linalg.qr(np.c_[Phi, rng.standard_normal((30, 4))])[0][:, 4:]
    assert mx.subspace_distance(other, Phi) == pytest.approx(1.0, abs=1e-12)
    lam = np.array([3.0, 2.0, 2.0, 1.0])                 # a degenerate pair (modes 2, 3)
    c, s = np.cos(0.7), np.sin(0.7)
    F = Phi.copy()
    F[:, 1], F[:, 2] = c * Phi[:, 1] + s * Phi[:, 2], -s * Phi[:, 1] + c * Phi[:, 2]
    F[:, 0] *= -2.0                                       # sign and scale do not matter
    np.testing.assert_allclose(mx.aligned_cosines(F, Phi, lam), 1.0, atol=1e-12)
    assert mx.aligned_cosines(F, Phi, np.array([3.0, 2.5, 2.0, 1.0]))[1] == pytest.approx(c, abs=1e-12)
    assert [list(b) for b in mx.eigen_blocks(np.array([2.0, 2.0 - 1e-12, 1.0]))] == [[0, 1], [2]]
    skew = Phi.copy()
    skew[:, 2] += 0.05 * Phi[:, 1]                        # a block that is only nearly orthonormal
    assert mx.aligned_cosines(F + 0.01 * rng.standard_normal(F.shape), skew, lam).max() <= 1.0
    np.testing.assert_allclose(mx.rayleigh_quotients(np.diag([2.0, 1.0]), np.diag([1.0, 3.0])), [0.5, 3.0])


def test_rbf_closed_form_orthonormal_and_matches_nystroem():
    x, w = np.polynomial.hermite_e.hermegauss(80)          # Gauss quadrature for N(0, 1)
    w = w / w.sum()
    Phi = ops.rbf_eigenfunctions(x[:, None], [(n,) for n in range(6)], 1.0, 1.0)
    np.testing.assert_allclose(Phi.T @ (w[:, None] * Phi), np.eye(6), atol=1e-10)
    lam = ops.rbf_eigenvalues_1d(np.arange(6), 1.0, 1.0)
    np.testing.assert_allclose(lam[:4], [0.618, 0.236, 0.0902, 0.0344], rtol=5e-3)
    # (T phi_n)(x) = E_y[k(x, y) phi_n(y)] = lambda_n phi_n(x), by quadrature
    K = ops.rbf_kernel(x[:, None], x[:, None], 1.0)
    np.testing.assert_allclose(K @ (w[:, None] * Phi), Phi * lam, atol=1e-8)
    X = np.random.default_rng(15).standard_normal((3000, 1))
    lam_n, U = ops.top_eigh(ops.rbf_kernel(X, X, 1.0) / 3000, 4)          # Lanczos on the dense Gram
    np.testing.assert_allclose(lam_n, lam[:4], rtol=0.06)
    assert mx.aligned_cosines(U, ops.rbf_eigenfunctions(X, [(n,) for n in range(4)], 1.0, 1.0), lam[:4]).min() > 0.99


def test_rbf_2d_modes_are_degenerate_by_total_degree():
    lam, modes = ops.rbf_modes(2, 10, 1.0, 1.0)
    assert [sum(t) for t in modes] == [0, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    assert [len(b) for b in mx.eigen_blocks(lam)] == [1, 2, 3, 4]


def test_grid_and_graph_operators():
    for text in ops.LAYOUTS.values():
        cells = ops.parse_layout(text)
        P = ops.grid_transition(cells)
        np.testing.assert_allclose(P, P.T)
        np.testing.assert_allclose(P.sum(1), 1.0)
        assert np.linalg.eigvalsh(P + np.eye(len(cells))).min() > -1e-12
    with pytest.raises(ValueError):
        ops.parse_layout("#.#\n#x#\n###")
    X = np.random.default_rng(16).standard_normal((80, 3))
    S = ops.knn_normalized_adjacency(X, 5).toarray()
    np.testing.assert_allclose(S, S.T)
    ev = np.linalg.eigvalsh(np.eye(80) + S)
    assert ev.min() > -1e-10 and ev.max() < 2 + 1e-10 and ev.max() == pytest.approx(2.0)
