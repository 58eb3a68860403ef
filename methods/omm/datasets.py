"""Operator datasets (task ``operator``): thin adapters around :mod:`methods.omm.operators`.

Capabilities a solver may need (checked by the methods with a one-line error):

* ``matrix()``   -- an explicit symmetric matrix (matrix-level solvers, exact eigensolvers); for
  ``inverse`` datasets it is ``Lop`` and the target operator is ``Lop^{-1}``;
* ``input_dim``  -- points a network can be evaluated on (network solvers), with
  ``sample_batch(rng, B)`` (minibatch estimator), ``full_batch()`` (finite state spaces only) and
  ``evaluation()`` (fixed evaluation points, true eigenfunctions, exact moments).

Inner products are in ``L^2(rho)``: rho is uniform over states for finite state spaces and
``N(0, sigma^2 I)`` for the kernel operator and the 2-D hydrogen operator (importance-sampling
transform of :mod:`methods.omm.hydrogen`); estimates use sample means.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import scipy.sparse as sp

from runner.api import Dataset, UserError, check

from . import hydrogen as hyd
from . import metrics as mx
from . import operators as ops


@dataclass
class OpBatch:
    """One minibatch of an operator estimator, as indices into unique input points ``x``.

    ``M[f] ~= mean_{i in metric[h]} f(x_i) f(x_i)^T`` for each independent half h;
    ``M[f, Tf] ~= 1/2 (F_l^T W F_r + F_r^T W^T F_l) + shift * mean_{i in shift_idx} f(x_i) f(x_i)^T``
    with ``F_l = f(x[left])``, ``F_r = f(x[right])``; ``w`` is a dense matrix or, for paired
    samples, a vector of per-pair weights.
    """

    x: np.ndarray
    metric: list[np.ndarray]
    left: np.ndarray
    right: np.ndarray
    w: np.ndarray
    shift_idx: np.ndarray | None = None
    shift: float = 0.0


@dataclass
class Evaluation:
    """Fixed evaluation points with the true top-k eigenfunctions (unit norm in ``L^2(rho)``) and
    a function giving the float64 moments ``(M[f], M[f, Tf])`` of learned values ``F`` there.

    When ``aux_x`` is set (e.g. finite-difference stencils), ``moments`` receives the values at
    ``concat(x, aux_x)``; every other metric uses the values at ``x`` only."""

    x: np.ndarray
    phi: np.ndarray
    lam: np.ndarray
    moments: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    aux_x: np.ndarray | None = None   # extra points whose values ``moments`` also needs (appended to x's)


class OperatorDataset(Dataset):
    """Base class: ``k`` = number of eigenpairs wanted; ``lam``/``eigvecs`` the exact top-k."""

    task = "operator"
    provenance = "generated"
    inverse = False
    input_dim: int | None = None   # None: no network inputs
    labels: np.ndarray | None = None

    def __init__(self, k: int):
        check(int(k) >= 1, f"dataset.k must be >= 1, got {k}")
        self.k = int(k)

    @property
    def has_matrix(self) -> bool:
        return False

    def matrix(self):  # pragma: no cover - interface
        raise UserError(f"dataset '{self.name}' has no explicit matrix")

    def truth(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(lambda, W)``: top-k eigenvalues (decreasing, float64) and eigenvectors (matrix datasets)."""
        raise NotImplementedError  # pragma: no cover

    def extra_metrics(self, F: np.ndarray, M_f: np.ndarray, M_fTf: np.ndarray) -> dict[str, float]:
        """Dataset-specific metrics of learned values ``F`` at the evaluation points (default none)."""
        return {}

    def plot_points(self) -> tuple[np.ndarray, dict] | None:
        """Inputs at which learned and true eigenfunctions are tabulated for figures, with extra
        columns (coordinates) for the table; ``None`` when nothing is worth plotting."""
        return None

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k}


class PSDMatrix(OperatorDataset):
    """A synthetic (generated) symmetric matrix ``U diag(lambda) U^T`` (see ``operators.matrix_spectrum``)."""

    def __init__(self, d: int = 200, k: int = 10, spectrum: str = "harmonic", seed: int = 0):
        super().__init__(k)
        check(spectrum in ops.SPECTRA, f"dataset.spectrum must be one of {', '.join(ops.SPECTRA)}, got '{spectrum}'")
        check(int(d) > int(k), f"dataset.d must exceed dataset.k, got d={d}, k={k}")
        self.d, self.spectrum, self.seed = int(d), spectrum, int(seed)
        self.inverse = spectrum == "inverse"

    @property
    def has_matrix(self) -> bool:
        return True

    @cached_property
    def _matrix(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return ops.random_symmetric(ops.matrix_spectrum(self.d, self.spectrum), rng)

    def matrix(self) -> np.ndarray:
        return self._matrix

    @cached_property
    def _truth(self):
        return ops.exact_top(self._matrix, self.k, self.inverse)

    def truth(self):
        return self._truth

    def describe(self) -> dict:
        return {**super().describe(), "d": self.d, "spectrum": self.spectrum, "synthetic": True}


class FiniteStateOperator(OperatorDataset):
    """``T = S + shift I`` on n states with uniform rho; S sparse, symmetric, non-negative.

    Network inputs are per-state feature vectors.  Minibatches sample pairs ``(i, j)`` with
    probability ``S_ij / sum(S)``, so ``M[f, Sf] = (1/n) F^T S F = (sum(S)/n) E[f_i f_j^T]``.
    """

    shift = 1.0

    @cached_property
    def _built(self) -> tuple[np.ndarray, sp.csr_matrix]:
        """``(inputs, S)``; subclasses implement :meth:`_build`."""
        x, S = self._build()
        return np.asarray(x, np.float32), sp.csr_matrix(S)

    def _build(self):  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def has_matrix(self) -> bool:
        return True

    @property
    def inputs(self) -> np.ndarray:
        return self._built[0]

    @property
    def input_dim(self) -> int:  # type: ignore[override]
        return self.inputs.shape[1]

    @property
    def n(self) -> int:
        return self._built[1].shape[0]

    def matrix(self):
        S = self._built[1]
        return (S + self.shift * sp.identity(S.shape[0], format="csr")).tocsr()

    @cached_property
    def _truth(self):
        check(self.k < self.n, f"dataset.k={self.k} must be below the number of states {self.n}")
        return ops.top_eigh(self.matrix(), self.k)

    def truth(self):
        return self._truth

    @cached_property
    def _pairs(self):
        S = sp.coo_matrix(self._built[1])
        return S.row, S.col, S.data / S.data.sum(), float(S.data.sum())

    def sample_batch(self, rng: np.random.Generator, batch: int) -> OpBatch:
        rows, cols, prob, total = self._pairs
        e = rng.choice(len(prob), size=batch, p=prob)
        nodes = rng.integers(0, self.n, size=2 * batch)
        shift_nodes = rng.integers(0, self.n, size=batch)
        # evaluate the network once per distinct state: the same values and gradients as one
        # evaluation per sample, far cheaper when the batch exceeds the number of states
        uniq, inv = np.unique(np.concatenate([nodes, rows[e], cols[e], shift_nodes]), return_inverse=True)
        part = np.split(inv, [batch, 2 * batch, 3 * batch, 4 * batch])
        return OpBatch(x=self.inputs[uniq], metric=part[:2], left=part[2], right=part[3],
                       w=np.full(batch, total / (self.n * batch)), shift_idx=part[4], shift=self.shift)

    def full_batch(self) -> OpBatch:
        n = self.n
        T = self.matrix().toarray() / n
        all_ = np.arange(n)
        return OpBatch(x=self.inputs, metric=[all_], left=all_, right=all_, w=T)

    def evaluation(self) -> Evaluation:
        lam, W = self.truth()
        n, T = self.n, self.matrix()
        return Evaluation(x=self.inputs, phi=W * np.sqrt(n), lam=lam,
                          moments=lambda F: (F.T @ F / n, F.T @ (T @ F) / n))

    def describe(self) -> dict:
        return {**super().describe(), "n_states": self.n}


class GridWorld(FiniteStateOperator):
    """Random-walk operator ``T = P + I`` of a grid world built from a text layout (generated)."""

    def __init__(self, layout: str = "four_rooms", k: int = 11):
        super().__init__(k)
        check(layout in ops.LAYOUTS, f"dataset.layout must be one of {', '.join(ops.LAYOUTS)}, got '{layout}'")
        self.layout = layout

    @cached_property
    def cells(self) -> np.ndarray:
        return ops.parse_layout(ops.LAYOUTS[self.layout])

    def _build(self):
        c = self.cells.astype(np.float64)
        span = np.maximum(c.max(0) - c.min(0), 1.0)
        x = 2 * (c - c.min(0)) / span - 1                          # (row, col) scaled to [-1, 1]
        return x, ops.grid_transition(self.cells)

    def plot_points(self):
        return self.inputs, {"row": self.cells[:, 0], "col": self.cells[:, 1]}

    def describe(self) -> dict:
        return {**super().describe(), "layout": self.layout, "synthetic": True}


class DigitsGraph(FiniteStateOperator):
    """``T = I + D^{-1/2} A D^{-1/2}`` on the symmetric kNN graph of sklearn's digits (real, embedded)."""

    provenance = "embedded"

    def __init__(self, k: int = 16, n_neighbors: int = 10):
        super().__init__(k)
        check(int(n_neighbors) >= 1, f"dataset.n_neighbors must be >= 1, got {n_neighbors}")
        self.n_neighbors = int(n_neighbors)

    def _build(self):
        from sklearn.datasets import load_digits

        X = np.asarray(load_digits().data, np.float64) / 16.0
        return X, ops.knn_normalized_adjacency(X, self.n_neighbors)

    @cached_property
    def labels(self) -> np.ndarray:  # type: ignore[override]
        from sklearn.datasets import load_digits

        return np.asarray(load_digits().target)

    def describe(self) -> dict:
        return {**super().describe(), "n_neighbors": self.n_neighbors}


class KernelOperator(OperatorDataset):
    """Gaussian-kernel integral operator on ``rho = N(0, sigma^2 I_dim)`` (generated samples) with
    its closed-form spectrum."""

    def __init__(self, dim: int = 1, k: int = 6, sigma: float = 1.0, ell: float = 1.0, n_eval: int = 10000):
        super().__init__(k)
        check(int(dim) in (1, 2), f"dataset.dim must be 1 or 2, got {dim}")
        check(sigma > 0 and ell > 0, f"dataset.sigma and dataset.ell must be > 0, got {sigma}, {ell}")
        check(int(n_eval) >= 100, f"dataset.n_eval must be >= 100, got {n_eval}")
        self.dim, self.sigma, self.ell, self.n_eval = int(dim), float(sigma), float(ell), int(n_eval)

    @property
    def input_dim(self) -> int:  # type: ignore[override]
        return self.dim

    @cached_property
    def _modes(self):
        return ops.rbf_modes(self.dim, self.k, self.sigma, self.ell)

    def truth(self):
        return self._modes[0], None

    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        return ops.rbf_eigenfunctions(x, self._modes[1], self.sigma, self.ell)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.sigma * rng.standard_normal((n, self.dim))

    def sample_batch(self, rng: np.random.Generator, batch: int) -> OpBatch:
        """``2B`` metric points (two independent halves) and an independent set of ``2B`` operator
        points with the U-statistic ``M[f, Tf] ~= sum_{i != j} K_ij f_i f_j^T / (2B (2B - 1))``."""
        x = self.sample(rng, 4 * batch)
        ar = np.arange
        n = 2 * batch
        xo = x[n:].astype(np.float32)
        K = ops.rbf_kernel(xo, xo, self.ell)
        np.fill_diagonal(K, 0.0)
        return OpBatch(x=x.astype(np.float32), metric=[ar(batch), ar(batch, n)],
                       left=ar(n, 2 * n), right=ar(n, 2 * n), w=K / (n * (n - 1)))

    def full_batch(self) -> OpBatch:
        raise UserError(f"dataset '{self.name}' is a continuous operator: use method.estimator=sampled")

    def evaluation(self) -> Evaluation:
        x = self.sample(np.random.default_rng(12345), self.n_eval)   # fixed evaluation set
        n = len(x)
        return Evaluation(x=x.astype(np.float32), phi=self.eigenfunctions(x), lam=self.truth()[0],
                          moments=lambda F: (F.T @ F / n, ops.kernel_moment_ustat(F, x, self.ell)))

    def plot_points(self):
        if self.dim != 1:
            return None
        x = np.linspace(-3 * self.sigma, 3 * self.sigma, 201)[:, None]
        return x.astype(np.float32), {"x": x[:, 0]}

    def describe(self) -> dict:
        return {**super().describe(), "dim": self.dim, "sigma": self.sigma, "ell": self.ell, "synthetic": True}


class Hydrogen2D(OperatorDataset):
    """The 2-D hydrogen operator ``T = scale * (lap + 1/|x|) + shift * I`` (SYNTHETIC: generated samples
    ``x ~ rho = N(0, sigma^2 I_2)``), learned in ``L^2(rho)`` through ``T_rho f = rho^-1/2 T(rho^1/2 f)``
    (see :mod:`methods.omm.hydrogen`).  True eigenvalues ``scale (2n+1)^-2 + shift`` with degeneracy
    ``2n + 1``; k = 9 covers the shells n = 0, 1, 2 (scaled: 100, 11.1 x 3, 4 x 5).

    Minibatch: ``2B`` metric points (two independent halves) and ``B`` independent operator points,
    each with its 5-point stencil; ``M[f, T_rho f] ~= (1/B) sum_b f(x_b) (sum_s c_bs f(P_bs))^T``
    (paired weights ``c_bs / B``), plus ``shift * (1/B) sum_b f(x_b) f(x_b)^T``.  ``T`` has a continuous
    spectrum ``(-inf, shift]``: it is not PSD for any shift (spec section 5).
    """

    def __init__(self, k: int = 9, scale: float = 100.0, shift: float = 0.0, sigma: float = 4.0,
                 eps: float = 0.01, clamp: float = 1e-5, n_eval: int = 20000):
        super().__init__(k)
        check(scale > 0 and sigma > 0 and eps > 0 and clamp > 0,
              f"dataset.scale, sigma, eps and clamp must be > 0, got {scale}, {sigma}, {eps}, {clamp}")
        check(int(n_eval) >= 100, f"dataset.n_eval must be >= 100, got {n_eval}")
        self.scale, self.shift, self.sigma = float(scale), float(shift), float(sigma)
        self.eps, self.clamp, self.n_eval = float(eps), float(clamp), int(n_eval)
        self.modes = hyd.hydrogen_modes(self.k)
        self.shells = np.array([n for n, _, _ in self.modes])

    input_dim = 2

    def truth(self):
        return self.scale * hyd.hydrogen_eigenvalues(self.modes) + self.shift, None

    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        """``psi(x) / sqrt(rho(x))``: unit norm in ``L^2(rho)``."""
        return hyd.hydrogen_psi(x, self.modes) / hyd.sqrt_density(x, self.sigma)[:, None]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.sigma * rng.standard_normal((n, 2))

    def _operator(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return hyd.transformed_weights(X, self.eps, self.sigma, self.scale, self.clamp)

    def sample_batch(self, rng: np.random.Generator, batch: int) -> OpBatch:
        ar = np.arange
        xm = self.draw(rng, 2 * batch)
        P, c = self._operator(self.draw(rng, batch))
        x = np.concatenate([xm, P.reshape(-1, 2)])                  # stencil of point b: rows 2B + 5b + s
        base = 2 * batch + 5 * ar(batch)
        return OpBatch(x=x, metric=[ar(batch), ar(batch, 2 * batch)], left=np.repeat(base, 5),
                       right=(base[:, None] + ar(5)[None, :]).ravel(), w=c.ravel() / batch,
                       shift_idx=base if self.shift else None, shift=self.shift)

    def full_batch(self) -> OpBatch:
        raise UserError(f"dataset '{self.name}' is a continuous operator: use method.estimator=sampled")

    def evaluation(self) -> Evaluation:
        return self._evaluation

    @cached_property
    def _evaluation(self) -> Evaluation:
        """The fixed evaluation set (seed 12345) with its stencils, built once per dataset."""
        X = self.draw(np.random.default_rng(12345), self.n_eval)
        P, c = self._operator(X)
        X = P[:, 0, :]
        n = len(X)

        def moments(Fall):
            F, Fs = Fall[:n], Fall[n:].reshape(n, 4, -1)
            Fs = np.concatenate([F[:, None, :], Fs], 1)
            TF = hyd.apply_weights(Fs, c) + self.shift * F
            M = F.T @ TF / n
            return F.T @ F / n, (M + M.T) / 2

        return Evaluation(x=X, phi=self.eigenfunctions(X), lam=self.truth()[0], moments=moments,
                          aux_x=P[:, 1:, :].reshape(-1, 2))

    def extra_metrics(self, F, M_f, M_fTf):
        """Per shell n: ``shell_eig_err_n`` = mean relative Rayleigh-quotient error of its modes,
        ``shell_subspace_dist_n`` = subspace distance of the learned block to the true block."""
        lam, phi = self.truth()[0], self.evaluation().phi
        lam_hat = mx.rayleigh_quotients(M_f, M_fTf)
        out = {}
        for n in np.unique(self.shells):
            b = np.flatnonzero(self.shells == n)
            out[f"shell_eig_err_{n}"] = float(np.mean(np.abs(lam_hat[b] - lam[b]) / np.abs(lam[b])))
            out[f"shell_lam_hat_{n}"] = float(np.mean(lam_hat[b]))
            out[f"shell_subspace_dist_{n}"] = mx.subspace_distance(F[:, b], phi[:, b])
        return out

    def plot_points(self):
        g = np.linspace(-8, 8, 41)
        X = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        return X, {"x": X[:, 0], "y": X[:, 1], "sqrt_rho": hyd.sqrt_density(X, self.sigma)}

    def describe(self) -> dict:
        return {**super().describe(), "scale": self.scale, "shift": self.shift, "sigma": self.sigma,
                "eps": self.eps, "synthetic": True}
