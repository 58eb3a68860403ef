"""The optimisation loop of Algorithm 1 (and its baselines) with common-random-number KL monitoring.

A *family* holds the current parameters of a uniform-weight mixture and knows how to sample it
from given noise and how to evaluate log q.  ``fit_mixture`` runs one optimiser for ``n_iter``
iterations, timing only the updates, and records a trace of the KL every ``eval_every`` iterations.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import updates
from .mixture import full_logpdf_and_score, full_stein_stats, iso_logpdf_and_score, iso_stein_stats

ISO_ALGOS = ("ibw", "md", "gd", "ngd", "ibw_s", "md_s")
ALGOS = ISO_ALGOS + ("bw",)


class Diverged(ArithmeticError):
    """The parameters left the domain (non-finite values, a covariance that lost definiteness)."""


class IsoMixture:
    """q = (1/N) Σ_j N(m_j, ε_j I): parameters ``means`` (N, d) and ``eps`` (N,)."""

    def __init__(self, means: np.ndarray, eps: np.ndarray):
        self.means, self.eps = np.asarray(means, float), np.asarray(eps, float)

    @property
    def n_params(self) -> int:
        n, d = self.means.shape
        return n * (d + 1)

    def sample(self, idx: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """x_i = m_{idx_i} + √ε_{idx_i} ξ_i."""
        return self.means[idx] + np.sqrt(self.eps[idx])[:, None] * noise

    def log_q(self, x: np.ndarray) -> np.ndarray:
        return iso_logpdf_and_score(x, self.means, self.eps)[0]

    def table(self):
        import pandas as pd

        df = pd.DataFrame(self.means, columns=[f"m{i}" for i in range(self.means.shape[1])])
        df["eps"] = self.eps
        return df


class FullMixture:
    """q = (1/N) Σ_j N(m_j, Σ_j): parameters ``means`` (N, d) and ``cov`` (N, d, d)."""

    def __init__(self, means: np.ndarray, cov: np.ndarray):
        self.means, self.cov = np.asarray(means, float), np.asarray(cov, float)
        try:
            self.chol = np.linalg.cholesky(self.cov)
        except np.linalg.LinAlgError:
            raise Diverged("a BW covariance lost positive definiteness") from None
        eye = np.broadcast_to(np.eye(self.cov.shape[-1]), self.cov.shape)
        self.chol_inv = np.linalg.solve(self.chol, eye)
        self.logdet = 2.0 * np.log(np.diagonal(self.chol, axis1=1, axis2=2)).sum(axis=1)

    @property
    def n_params(self) -> int:
        n, d = self.means.shape
        return n * (d * d + d)

    @property
    def eps(self) -> np.ndarray:
        """Per-component mean variance tr Σ_j / d (for reporting only)."""
        return np.trace(self.cov, axis1=1, axis2=2) / self.cov.shape[-1]

    def sample(self, idx, noise):
        return self.means[idx] + np.einsum("mij,mj->mi", self.chol[idx], noise)

    def log_q(self, x):
        return full_logpdf_and_score(x, self.means, self.chol_inv, self.logdet)[0]

    def table(self):
        import pandas as pd

        n, d = self.means.shape
        df = pd.DataFrame(self.means, columns=[f"m{i}" for i in range(d)])
        df["eps"] = self.eps
        for i in range(d):
            for j in range(i, d):
                df[f"c{i}_{j}"] = self.cov[:, i, j]
        return df


def step(algo: str, fam, target, xi: np.ndarray, lr: float, exact: bool = False):
    """One iteration of ``algo`` from ``fam``; returns (new family, number of clipped MD steps).

    ibw / md: GD on means + IBW / MD on per-component variances; gd: means only; ngd: natural
    gradient; ibw_s / md_s: shared variance; bw: full covariances.  ``exact`` uses the target's
    closed-form Stein statistics (one component, Gaussian target) instead of Monte Carlo.
    """
    d = fam.means.shape[1]
    if algo == "bw":
        G, H = full_stein_stats(fam.means, fam.chol, fam.chol_inv, fam.logdet, xi, target.score)
        return FullMixture(updates.gd_means(fam.means, G, lr), updates.bw_covariances(fam.cov, H, lr)), 0
    if exact:
        G, S = target.exact_stats(fam.means, fam.eps)
    else:
        G, S = iso_stein_stats(fam.means, fam.eps, xi, target.score)
    clipped = 0
    if algo == "gd":
        eps = fam.eps
    elif algo == "ibw":
        eps = updates.ibw_variances(fam.eps, S, lr, d)
    elif algo == "md":
        eps, clipped = updates.md_variances(fam.eps, S, lr, d)
    elif algo == "ngd":
        means, eps = updates.ngd_step(fam.means, fam.eps, G, S, lr, d)
        return IsoMixture(means, eps), 0
    else:
        shared, clipped = updates.shared_variance(float(fam.eps[0]), S, lr, d, algo[:-2])
        eps = np.full_like(fam.eps, shared)
    return IsoMixture(updates.gd_means(fam.means, G, lr), eps), clipped


@dataclass
class CRN:
    """Common random numbers for monitoring: fixed component indices and fixed noise."""

    idx: np.ndarray
    noise: np.ndarray

    @classmethod
    def draw(cls, n_components: int, n: int, d: int, rng: np.random.Generator) -> "CRN":
        return cls(rng.integers(0, n_components, size=n), rng.standard_normal((n, d)))


def kl_estimate(fam, target, crn: CRN) -> float:
    """Monte Carlo KL(q‖π) = E_q[log q - log π] with fixed noise (a true KL when π is normalised,
    otherwise the negative ELBO, i.e. KL up to log Z)."""
    x = fam.sample(crn.idx, crn.noise)
    return float(np.mean(fam.log_q(x) - target.log_prob(x)))


@dataclass
class FitResult:
    fam: object
    trace: list = field(default_factory=list)
    step_times: list = field(default_factory=list)
    n_iter_done: int = 0
    stopped: str = ""          # "" or the reason the loop stopped early
    md_clipped: int = 0
    min_eps: float = np.inf


def fit_mixture(algo: str, fam, target, lr: float, n_iter: int, n_grad: int, rng: np.random.Generator,
                crn: CRN, eval_every: int, progress=lambda it, **kw: it, exact: bool = False,
                trace_eval=None, on_step=None) -> FitResult:
    """Run ``n_iter`` iterations of ``algo``; fresh (B, d) noise block per iteration shared by the
    components; KL (and ``trace_eval(fam)`` metrics) every ``eval_every`` iterations;
    ``on_step(it, fam)`` after every accepted iteration.  Stops early,
    keeping the last valid parameters, when NGD produces a negative variance or values diverge."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}")
    d = fam.means.shape[1]
    out = FitResult(fam, min_eps=float(np.min(fam.eps)))

    def record(it):
        row = {"iteration": it, "kl": kl_estimate(out.fam, target, crn)}
        if trace_eval is not None:
            row.update(trace_eval(out.fam))
        out.trace.append(row)

    record(0)
    for it in progress(range(1, n_iter + 1), total=n_iter, desc=algo):
        xi = rng.standard_normal((n_grad, d))
        t0 = time.perf_counter()
        try:
            new, clipped = step(algo, out.fam, target, xi, lr, exact)
            if not (np.all(np.isfinite(new.means)) and np.all(np.isfinite(new.eps))):
                raise Diverged("non-finite parameters")
        except (updates.NegativeVariance, Diverged) as err:
            out.stopped = f"{type(err).__name__} at iteration {it}: {err}"
            break
        out.step_times.append(time.perf_counter() - t0)
        out.fam, out.n_iter_done = new, it
        out.md_clipped += clipped
        out.min_eps = min(out.min_eps, float(np.min(new.eps)))
        if on_step is not None:
            on_step(it, new)
        if it % eval_every == 0 or it == n_iter:
            record(it)
    if out.trace[-1]["iteration"] != out.n_iter_done:
        record(out.n_iter_done)
    return out
