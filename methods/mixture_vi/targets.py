"""Target distributions π ∝ e^{-V}: each gives log π(x) (up to a constant unless ``normalised``)
and the score ∇log π(x) for a batch x of shape (M, d).

Targets with closed-form sampling also give ``sample(n, rng)``; ``evaluate(samples, rng)`` returns
target-specific metrics of a sample of q (accuracy for posteriors, cluster errors for the bimodal
target); ``init_means(n, s, rng)`` is the initialisation of the mixture means (uniform in [-s, s]^d).
"""
from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, logsumexp, softmax

LOG_2PI = float(np.log(2.0 * np.pi))


class Target:
    """Interface; subclasses set ``dim`` and ``normalised`` and implement log_prob / score."""

    dim: int = 0
    normalised: bool = True

    def log_prob(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def score(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def evaluate(self, samples: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """Metrics of a sample of the approximation q beyond the KL (none by default)."""
        return {}

    def init_means(self, n: int, s: float, rng: np.random.Generator) -> np.ndarray:
        """Initial means of an n-component mixture: uniform in [-s, s]^d."""
        return rng.uniform(-s, s, size=(n, self.dim))


class GaussianMixture(Target):
    """π(x) = Σ_k w_k N(x; μ_k, Σ_k) (normalised); one Gaussian is the case K = 1."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, covs: np.ndarray):
        self.weights = np.asarray(weights, float) / np.sum(weights)
        self.means = np.asarray(means, float)
        self.covs = np.asarray(covs, float)
        self.dim = self.means.shape[1]
        self.chol = np.linalg.cholesky(self.covs)
        self.chol_inv = np.linalg.inv(self.chol)
        self.logdet = 2.0 * np.log(np.diagonal(self.chol, axis1=1, axis2=2)).sum(axis=1)
        off = self.covs - np.einsum("kii->ki", self.covs)[:, :, None] * np.eye(self.dim)
        # diagonal covariances: O(d) per point and component instead of O(d²)
        self.inv_sd = None if np.any(off) else 1.0 / np.sqrt(np.einsum("kii->ki", self.covs))

    def _components(self, x):
        """log w_k + log N(x; μ_k, Σ_k) (M, K) and whitened residuals z = L_k⁻¹(x - μ_k) (M, K, d)."""
        diff = x[:, None, :] - self.means[None]
        z = diff * self.inv_sd if self.inv_sd is not None else np.einsum("kij,mkj->mki", self.chol_inv, diff)
        comp = (np.log(self.weights) - 0.5 * np.einsum("mki,mki->mk", z, z) - 0.5 * self.logdet
                - 0.5 * self.dim * LOG_2PI)
        return comp, z

    def log_prob(self, x):
        return logsumexp(self._components(x)[0], axis=1)

    def score(self, x):
        """∇log π = -Σ_k r_k(x) Σ_k⁻¹(x - μ_k) = -Σ_k r_k L_k⁻ᵀ z_k."""
        comp, z = self._components(x)
        rz = softmax(comp, axis=1)[:, :, None] * z
        if self.inv_sd is not None:
            return -np.einsum("mki,ki->mi", rz, self.inv_sd)
        return -np.einsum("kji,mkj->mi", self.chol_inv, rz)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        return self.means[k] + np.einsum("mij,mj->mi", self.chol[k], rng.standard_normal((n, self.dim)))


def random_mixture(d: int, n_modes: int, spread: float, scale: float, cov: str,
                   rng: np.random.Generator) -> GaussianMixture:
    """The spec's MoG generator: means U[-spread, spread]^d; weights = random integers in
    {1, …, 2K-1} normalised; covariances 'diag' (entries U(1,10)/max × scale), 'full'
    (A Aᵀ/max|·| × scale + 1e-6 I) or 'iso' (scale · I)."""
    means = rng.uniform(-spread, spread, size=(n_modes, d))
    weights = rng.integers(1, 2 * n_modes, size=n_modes).astype(float)
    if cov == "diag":
        diag = rng.uniform(1.0, 10.0, size=(n_modes, d))
        covs = np.stack([np.diag(v / v.max() * scale) for v in diag])
    elif cov == "full":
        a = rng.standard_normal((n_modes, d, d))
        aat = a @ np.swapaxes(a, 1, 2)
        covs = aat / np.abs(aat).max(axis=(1, 2), keepdims=True) * scale + 1e-6 * np.eye(d)
    else:
        covs = np.stack([scale * np.eye(d)] * n_modes)
    return GaussianMixture(weights, means, covs)


class DiagonalGaussian(GaussianMixture):
    """π = N(μ, diag(σ²)): the best isotropic Gaussian is m* = μ, ε* = d / Σ_i σ_i⁻²."""

    def __init__(self, mean: np.ndarray, var: np.ndarray):
        super().__init__(np.ones(1), np.asarray(mean)[None], np.diag(var)[None])
        self.mean, self.var = np.asarray(mean, float), np.asarray(var, float)

    @property
    def optimal_eps(self) -> float:
        return self.dim / float(np.sum(1.0 / self.var))

    def exact_stats(self, means: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact G, S for one isotropic component: G = Σ⁻¹(m-μ), S = -d + ε tr Σ⁻¹."""
        if means.shape[0] != 1:
            raise ValueError("exact Stein statistics exist here only for one component")
        G = (means - self.mean) / self.var
        S = -self.dim + eps * np.sum(1.0 / self.var)
        return G, S


class BimodalTarget(GaussianMixture):
    """Unbalanced 2-D bimodal target (App. E.4): weights (p, 1-p), isotropic unit variances.

    Means start in two small balls around the modes, round(N p) (at least 0) near the light one.
    ``evaluate``: K-means (K = 2) on 10,000 samples of π and of q; E1 = mean distance between matched
    centres, E2 = |difference of cluster weights|.
    """

    def __init__(self, p: float, separation: float, init_radius: float, n_kmeans: int = 10_000):
        half = separation / 2.0
        super().__init__(np.array([p, 1.0 - p]), np.array([[-half, 0.0], [half, 0.0]]),
                         np.stack([np.eye(2)] * 2))
        self.p, self.init_radius, self.n_kmeans = p, init_radius, n_kmeans

    def init_means(self, n, s, rng):
        n_light = int(np.floor(n * self.p + 0.5))
        centre = np.where(np.arange(n)[:, None] < n_light, self.means[0], self.means[1])
        return centre + rng.uniform(-self.init_radius, self.init_radius, size=(n, 2))

    def evaluate(self, samples, rng):
        e1, e2 = kmeans_errors(self.sample(self.n_kmeans, rng), samples[: self.n_kmeans], rng)
        return {"cluster_e1": e1, "cluster_e2": e2}


def kmeans_errors(target_samples: np.ndarray, q_samples: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """E1, E2 of App. E.4: K-means with K = 2 on both samples, clusters matched by the permutation
    with the smaller total centre distance; E1 = mean distance of matched centres, E2 = |w_π - w_q|."""
    from scipy.cluster.vq import kmeans2

    def fit(x):
        centres, labels = kmeans2(x, 2, minit="++", seed=rng)
        return centres, np.bincount(labels, minlength=2) / len(x)

    ct, wt = fit(target_samples)
    cq, wq = fit(q_samples)
    d_same = np.linalg.norm(ct - cq, axis=1)
    d_swap = np.linalg.norm(ct - cq[::-1], axis=1)
    if d_swap.sum() < d_same.sum():
        d_same, wq = d_swap, wq[::-1]
    return float(d_same.mean()), float(abs(wt[0] - wq[0]))


class Funnel(Target):
    """Neal's funnel in 2-D: x1 ~ N(0, σ²), x2 | x1 ~ N(0, e^{x1}) (normalised).

    ∇log π = (-x1/σ² + x2² e^{-x1}/2 - 1/2, -x2 e^{-x1}); e^{-x1} is computed with -x1 clipped at
    ``MAX_EXP`` to stay finite far in the neck.
    """

    MAX_EXP = 50.0

    def __init__(self, var: float = 1.2):
        self.var, self.dim = var, 2

    def log_prob(self, x):
        x1, x2 = x[:, 0], x[:, 1]
        return (-0.5 * x1 ** 2 / self.var - 0.5 * np.log(2 * np.pi * self.var)
                - 0.5 * x2 ** 2 * np.exp(np.minimum(-x1, self.MAX_EXP)) - 0.5 * x1 - 0.5 * LOG_2PI)

    def score(self, x):
        x1, x2 = x[:, 0], x[:, 1]
        e = np.exp(np.minimum(-x1, self.MAX_EXP))
        return np.stack([-x1 / self.var + 0.5 * x2 ** 2 * e - 0.5, -x2 * e], axis=1)

    def sample(self, n, rng):
        x1 = rng.normal(0.0, np.sqrt(self.var), n)
        return np.stack([x1, rng.standard_normal(n) * np.exp(0.5 * x1)], axis=1)


class SinhArcsinh(Target):
    """Sinh-arcsinh transform of N(0, Σ), Σ = [[1, ρ], [ρ, 1]] (normalised, change of variables):
    w_j = τ⁻¹(asinh x_j + s_j), z_j = sinh w_j, π(x) = N(z; 0, Σ) Π_j cosh(w_j) τ⁻¹ / √(1 + x_j²).
    Score: -(Σ⁻¹z)_j cosh(w_j) w'_j + tanh(w_j) w'_j - x_j/(1+x_j²), w'_j = τ⁻¹/√(1+x_j²).
    """

    def __init__(self, skew=(-0.2, -0.2), inv_tail: float = 1.2, rho: float = 0.4):
        self.shift = -np.asarray(skew, float)
        self.inv_tail = inv_tail
        self.cov = np.array([[1.0, rho], [rho, 1.0]])
        self.prec = np.linalg.inv(self.cov)
        self.dim = 2

    def _parts(self, x):
        w = self.inv_tail * (np.arcsinh(x) + self.shift)
        return w, np.sinh(w), self.inv_tail / np.sqrt(1.0 + x ** 2)

    def log_prob(self, x):
        w, z, dw = self._parts(x)
        quad = np.einsum("mi,ij,mj->m", z, self.prec, z)
        return (-0.5 * quad - 0.5 * np.log(np.linalg.det(self.cov)) - LOG_2PI
                + np.sum(np.log(np.cosh(w) * dw), axis=1))

    def score(self, x):
        w, z, dw = self._parts(x)
        return -(z @ self.prec) * np.cosh(w) * dw + np.tanh(w) * dw - x / (1.0 + x ** 2)

    def sample(self, n, rng):
        z = rng.multivariate_normal(np.zeros(2), self.cov, size=n)
        return np.sinh(np.arcsinh(z) / self.inv_tail - self.shift)


class LogisticPosterior(Target):
    """Bayesian logistic regression posterior (unnormalised), no intercept, prior N(0, σ² I).

    Binary (L = 2 classes, z ∈ R^p): log π(z) = Σ_i [y_i t_i - log(1 + e^{t_i})] - |z|²/(2σ²), t = X z.
    Multinomial (L > 2, z = (z_1..z_L) ∈ R^{pL}): log π(z) = Σ_i log softmax(X z)_{i, y_i} - |z|²/(2σ²).
    ``evaluate``: Bayesian model averaging over the samples on the test split (mean of probabilities),
    test accuracy and mean test log predictive density.
    """

    normalised = False
    trace_metrics = True     # accuracy is cheap enough to record along the optimisation

    def __init__(self, X_train, y_train, X_test, y_test, n_classes: int, prior_var: float):
        self.X, self.y = np.asarray(X_train, float), np.asarray(y_train).astype(int)
        self.X_test, self.y_test = np.asarray(X_test, float), np.asarray(y_test).astype(int)
        self.n_classes, self.prior_var = int(n_classes), float(prior_var)
        self.p = self.X.shape[1]
        self.binary = self.n_classes == 2
        self.dim = self.p if self.binary else self.p * self.n_classes
        self.onehot = np.eye(self.n_classes)[self.y]

    def _weights(self, z):
        return z.reshape(len(z), self.n_classes, self.p)

    def log_prob(self, z):
        prior = -0.5 * np.sum(z ** 2, axis=1) / self.prior_var
        if self.binary:
            t = z @ self.X.T
            return (t * self.y - np.logaddexp(0.0, t)).sum(axis=1) + prior
        logits = np.einsum("mlp,np->mnl", self._weights(z), self.X)
        return np.einsum("mnl,nl->m", log_softmax(logits, axis=2), self.onehot) + prior

    def score(self, z):
        prior = -z / self.prior_var
        if self.binary:
            t = z @ self.X.T
            return (self.y - 0.5 * (1.0 + np.tanh(0.5 * t))) @ self.X + prior
        logits = np.einsum("mlp,np->mnl", self._weights(z), self.X)
        resid = self.onehot[None] - softmax(logits, axis=2)
        return np.einsum("mnl,np->mlp", resid, self.X).reshape(len(z), -1) + prior

    def predictive(self, z: np.ndarray) -> np.ndarray:
        """BMA class probabilities on the test split, shape (n_test, L)."""
        if self.binary:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * (z @ self.X_test.T))).mean(axis=0)
            return np.stack([1.0 - p1, p1], axis=1)
        logits = np.einsum("mlp,np->mnl", self._weights(z), self.X_test)
        return softmax(logits, axis=2).mean(axis=0)

    def evaluate(self, samples, rng):
        probs = self.predictive(samples)
        acc = float(np.mean(np.argmax(probs, axis=1) == self.y_test))
        ll = float(np.mean(np.log(np.maximum(probs[np.arange(len(self.y_test)), self.y_test], 1e-300))))
        return {"test_accuracy": acc, "test_loglik": ll}
