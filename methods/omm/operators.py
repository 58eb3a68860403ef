"""The operators of the reproduction and their exact spectra (numpy / scipy, float64).

* random PSD matrices ``A = U diag(lambda) U^T`` (gapped, degenerate, one negative eigenvalue);
* the Gaussian-kernel integral operator ``(Tf)(x) = E_{y~N(0, sigma^2 I)}[k(x, y) f(y)]`` with its
  closed-form spectrum (Rasmussen & Williams 2006, section 4.3.1);
* grid-world random-walk operators ``P`` (uniform policy, blocked moves stay) from text layouts;
* the symmetric kNN graph of a point cloud, ``S = D^{-1/2} A D^{-1/2}``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import eval_hermite, gammaln

# ---------------------------------------------------------------------------------------------
# exact eigensolvers


def top_eigh(T, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eigenpairs of a symmetric matrix, eigenvalues decreasing (float64).

    Small matrices (or large k) use ``numpy.linalg.eigh``; large ones ``scipy.sparse.linalg.eigsh``
    (Lanczos, ``which="LA"``, deterministic start vector, full precision).
    """
    n = T.shape[0]
    if n > 600 and k < n // 4:
        from scipy.sparse.linalg import eigsh

        lam, W = eigsh(T.astype(np.float64), k=k, which="LA", v0=np.ones(n), tol=0)
    else:
        Td = T.toarray() if sp.issparse(T) else np.asarray(T, np.float64)
        lam, W = np.linalg.eigh((Td + Td.T) / 2)
    order = np.argsort(-lam, kind="stable")[:k]
    return lam[order], W[:, order]


def exact_top(A, k: int, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenpairs of the target operator: ``A`` itself, or ``A^{-1}`` when ``inverse``
    (then the bottom eigenpairs ``mu`` of A give ``lambda = 1/mu``)."""
    if not inverse:
        return top_eigh(A, k)
    mu, W = top_eigh(-A, k)
    return -1.0 / mu, W


# ---------------------------------------------------------------------------------------------
# random PSD matrices

SPECTRA = ("harmonic", "degenerate", "negative", "inverse")


def matrix_spectrum(d: int, kind: str) -> np.ndarray:
    """Eigenvalues of the synthetic matrices (unsorted as built).

    ``harmonic``: ``1/i``; ``degenerate``: ``1/i`` with ``lambda_4 = lambda_3`` (a 2-fold pair);
    ``negative``: ``1/i`` with the last one replaced by ``-0.5`` (not PSD); ``inverse``: the
    *operator* ``Lop`` with eigenvalues ``mu_i = 1 + (i-1)/8`` whose inverse ``Lop^{-1}`` is the
    target (for the inverse trick: top eigenpairs of ``Lop^{-1}`` = bottom eigenpairs of ``Lop``).
    """
    i = np.arange(1, d + 1, dtype=np.float64)
    if kind == "inverse":
        return 1.0 + (i - 1) / 8.0
    lam = 1.0 / i
    if kind == "degenerate":
        lam[3] = lam[2]
    elif kind == "negative":
        lam[-1] = -0.5
    elif kind != "harmonic":
        raise ValueError(f"unknown spectrum '{kind}'; known: {', '.join(SPECTRA)}")
    return lam


def random_symmetric(eigenvalues: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``U diag(eigenvalues) U^T`` with a Haar-random orthogonal ``U`` (QR of a Gaussian matrix)."""
    d = len(eigenvalues)
    Q, Rr = np.linalg.qr(rng.standard_normal((d, d)))
    U = Q * np.sign(np.diagonal(Rr))
    A = (U * eigenvalues) @ U.T
    return (A + A.T) / 2


def omm_matrix_loss(V: np.ndarray, A: np.ndarray, p: int = 1) -> float:
    """``L^(p)(V) = -tr(Q_p(V^T V) V^T A V)`` in float64 (Eq. 4); min ``-sum_{i<=k} lambda_i``."""
    G = V.T @ V
    Rm = np.eye(G.shape[0]) - G
    Q = np.eye(G.shape[0])
    for _ in range(2 * p - 1):
        Q = np.eye(G.shape[0]) + Rm @ Q
    return float(-np.trace(Q @ (V.T @ A @ V)))


# ---------------------------------------------------------------------------------------------
# Gaussian-kernel integral operator


def rbf_kernel(X: np.ndarray, Y: np.ndarray, ell: float) -> np.ndarray:
    """``k(x, y) = exp(-||x - y||^2 / (2 ell^2))`` for rows of X and Y."""
    d2 = (X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2 * X @ Y.T
    return np.exp(-np.maximum(d2, 0.0) / (2 * ell * ell))


def _rbf_constants(sigma: float, ell: float) -> tuple[float, float, float, float]:
    a = 1.0 / (4 * sigma * sigma)
    b = 1.0 / (2 * ell * ell)
    c = math.sqrt(a * a + 2 * a * b)
    return a, b, c, a + b + c


def rbf_eigenvalues_1d(n: np.ndarray, sigma: float, ell: float) -> np.ndarray:
    """``lambda_n = sqrt(2a/A) B^n`` with ``a = 1/(4 sigma^2)``, ``b = 1/(2 ell^2)``,
    ``c = sqrt(a^2 + 2ab)``, ``A = a + b + c``, ``B = b/A`` (n = 0, 1, ...)."""
    a, b, c, A = _rbf_constants(sigma, ell)
    return math.sqrt(2 * a / A) * (b / A) ** np.asarray(n, np.float64)


def rbf_eigenfunction_1d(x: np.ndarray, n: int, sigma: float, ell: float) -> np.ndarray:
    """``phi_n(x) = exp(-(c - a) x^2) H_n(sqrt(2c) x) / Z_n``, unit norm in ``L^2(N(0, sigma^2))``.

    ``Z_n^2 = int exp(-2c x^2) H_n(sqrt(2c) x)^2 dx / sqrt(2 pi sigma^2)
    = sqrt(pi) 2^n n! / (sqrt(2c) sqrt(2 pi sigma^2))`` (Hermite orthogonality).
    """
    a, b, c, A = _rbf_constants(sigma, ell)
    log_z2 = (0.5 * math.log(math.pi) + n * math.log(2.0) + gammaln(n + 1)
              - 0.5 * math.log(2 * c) - 0.5 * math.log(2 * math.pi * sigma * sigma))
    x = np.asarray(x, np.float64)
    return np.exp(-(c - a) * x * x) * eval_hermite(n, math.sqrt(2 * c) * x) * math.exp(-0.5 * log_z2)


def rbf_modes(dim: int, k: int, sigma: float, ell: float) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The top-``k`` eigenvalues of the ``dim``-D product kernel and their multi-indices.

    ``lambda_{n_1..n_dim} = prod_j lambda_{n_j}``; it depends only on ``sum n_j``, so modes of equal
    total degree are degenerate.  Sorted by decreasing eigenvalue, then lexicographically.
    """
    import itertools

    deg = 0
    idx: list[tuple[int, ...]] = []
    while len(idx) < k:
        idx += sorted((t for t in itertools.product(range(deg + 1), repeat=dim) if sum(t) == deg),
                      reverse=True)
        deg += 1
    lam = np.array([np.prod(rbf_eigenvalues_1d(np.array(t), sigma, ell)) for t in idx])
    return lam[:k], idx[:k]


def rbf_eigenfunctions(X: np.ndarray, modes: list[tuple[int, ...]], sigma: float, ell: float) -> np.ndarray:
    """``Phi[:, m] = prod_j phi_{n_j}(x_j)`` for each multi-index ``modes[m]`` (rows of X)."""
    X = np.atleast_2d(np.asarray(X, np.float64))
    out = np.ones((X.shape[0], len(modes)))
    for m, t in enumerate(modes):
        for j, n in enumerate(t):
            out[:, m] *= rbf_eigenfunction_1d(X[:, j], n, sigma, ell)
    return out


def kernel_moment_ustat(F: np.ndarray, X: np.ndarray, ell: float, chunk: int = 1000) -> np.ndarray:
    """Unbiased ``M[f, Tf] ~= sum_{i != j} k(x_i, x_j) f(x_i) f(x_j)^T / (n (n - 1))`` (chunked)."""
    n = len(X)
    out = np.zeros((F.shape[1], F.shape[1]))
    for s in range(0, n, chunk):
        K = rbf_kernel(X[s:s + chunk], X, ell)
        K[np.arange(K.shape[0]), np.arange(s, s + K.shape[0])] = 0.0
        out += F[s:s + chunk].T @ (K @ F)
    out /= n * (n - 1)
    return (out + out.T) / 2


# ---------------------------------------------------------------------------------------------
# grid worlds

LAYOUTS = {
    # Sutton, Precup & Singh's four rooms: 11 x 11 interior, 104 free cells ('#' wall, '.' free).
    "four_rooms": """
#############
#.....#.....#
#.....#.....#
#...........#
#.....#.....#
#.....#.....#
##.####.....#
#.....###.###
#.....#.....#
#.....#.....#
#...........#
#.....#.....#
#############
""",
    # a small maze of one-cell corridors (GridMaze-7-like, generated by hand).
    "maze": """
###########
#.....#...#
#.###.#.#.#
#.#...#.#.#
#.#.###.#.#
#.#.....#.#
#.#####.#.#
#...#...#.#
###.#.###.#
#.....#...#
###########
""",
}


def parse_layout(text: str) -> np.ndarray:
    """The (row, col) coordinates of the free cells ('.') of a text layout, row-major order."""
    rows = [r for r in text.strip("\n").splitlines() if r.strip()]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError("a grid layout must be a non-empty rectangle of '#' and '.'")
    bad = {ch for r in rows for ch in r} - {"#", "."}
    if bad:
        raise ValueError(f"unknown characters in grid layout: {''.join(sorted(bad))}")
    return np.array([(i, j) for i, r in enumerate(rows) for j, ch in enumerate(r) if ch == "."], dtype=int)


def grid_transition(cells: np.ndarray) -> np.ndarray:
    """Uniform-random-policy dynamics ``P`` over free cells: 4 moves with prob. 1/4, a blocked move
    stays put.  ``P`` is symmetric and doubly stochastic (uniform stationary distribution)."""
    index = {tuple(c): i for i, c in enumerate(cells)}
    n = len(cells)
    P = np.zeros((n, n))
    for i, (r, c) in enumerate(cells):
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            j = index.get((r + dr, c + dc), i)
            P[i, j] += 0.25
    return P


# ---------------------------------------------------------------------------------------------
# kNN graph


def knn_normalized_adjacency(X: np.ndarray, n_neighbors: int = 10) -> sp.csr_matrix:
    """``S = D^{-1/2} A D^{-1/2}`` for the symmetrised (``max(A, A^T)``) binary kNN graph of X.

    ``I - S`` is the normalised Laplacian ``L_sym`` (spectrum in [0, 2]); the operator of the graph
    experiment is ``T = 2I - L_sym = I + S`` (PSD).
    """
    from sklearn.neighbors import kneighbors_graph

    A = kneighbors_graph(X, n_neighbors, mode="connectivity", include_self=False)
    A = A.maximum(A.T).tocsr().astype(np.float64)
    dinv = 1.0 / np.sqrt(np.asarray(A.sum(1)).ravel())
    return sp.csr_matrix(sp.diags(dinv) @ A @ sp.diags(dinv))
