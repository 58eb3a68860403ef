"""Reference Hamiltonian Monte Carlo (own implementation), vectorised over chains.

Leapfrog with a diagonal inverse mass matrix v:  p ← p + (h/2)∇log π(x);  x ← x + h v⊙p;
p ← p + (h/2)∇log π(x); Metropolis test on H = -log π(x) + ½ Σ v p².
Warm-up: dual-averaging step-size adaptation (Hoffman & Gelman 2014, Alg. 5) towards
``target_accept``; halfway through warm-up v is set to the per-coordinate variance of the second
quarter of warm-up draws and the step size is re-adapted.
"""
from __future__ import annotations

import numpy as np


class DualAveraging:
    """log h_t = μ - (√t/γ) h̄_t, h̄_t = (1 - 1/(t+t0)) h̄_{t-1} + (δ - a_t)/(t+t0); returns the
    iterate-averaged step once adaptation ends."""

    def __init__(self, step: float, target: float, gamma: float = 0.05, t0: float = 10.0, kappa: float = 0.75):
        self.mu, self.target, self.gamma, self.t0, self.kappa = np.log(10 * step), target, gamma, t0, kappa
        self.t, self.hbar, self.log_bar, self.log_step = 0, 0.0, 0.0, np.log(step)

    def update(self, accept: float) -> float:
        self.t += 1
        w = 1.0 / (self.t + self.t0)
        self.hbar = (1 - w) * self.hbar + w * (self.target - accept)
        self.log_step = self.mu - np.sqrt(self.t) / self.gamma * self.hbar
        eta = self.t ** (-self.kappa)
        self.log_bar = eta * self.log_step + (1 - eta) * self.log_bar
        return float(np.exp(self.log_step))

    @property
    def final(self) -> float:
        return float(np.exp(self.log_bar))


def hmc_transition(x, logp, grad, log_prob, score, step, n_leapfrog, inv_mass, rng):
    """One HMC transition for every chain; returns (x, log π(x), ∇log π(x), acceptance prob)."""
    p = rng.standard_normal(x.shape) / np.sqrt(inv_mass)
    h0 = -logp + 0.5 * np.sum(inv_mass * p * p, axis=1)
    xn, gn = x.copy(), grad.copy()
    pn = p + 0.5 * step * gn
    for i in range(n_leapfrog):
        xn = xn + step * inv_mass * pn
        gn = score(xn)
        if i < n_leapfrog - 1:
            pn = pn + step * gn
    pn = pn + 0.5 * step * gn
    lpn = log_prob(xn)
    h1 = -lpn + 0.5 * np.sum(inv_mass * pn * pn, axis=1)
    log_ratio = np.where(np.isfinite(h1), h0 - h1, -np.inf)
    acc = np.exp(np.minimum(log_ratio, 0.0))
    take = rng.uniform(size=len(x)) < acc
    x = np.where(take[:, None], xn, x)
    logp = np.where(take, lpn, logp)
    grad = np.where(take[:, None], gn, grad)
    return x, logp, grad, acc


def run_hmc(log_prob, score, x0: np.ndarray, n_warmup: int, n_draws: int, n_leapfrog: int,
            rng: np.random.Generator, target_accept: float = 0.75, step0: float = 0.05,
            progress=lambda it, **kw: it) -> dict:
    """Warm-up then ``n_draws`` draws per chain; returns draws (n_draws, C, d), step, acceptance."""
    x = np.array(x0, float)
    logp, grad = log_prob(x), score(x)
    inv_mass = np.ones(x.shape[1])
    half = n_warmup // 2
    adapt = DualAveraging(step0, target_accept)
    step, window = step0, []
    draws, accepts = [], []
    for it in progress(range(n_warmup + n_draws), total=n_warmup + n_draws, desc="HMC"):
        warm = it < n_warmup
        h = step * rng.uniform(0.9, 1.1) if warm else step
        x, logp, grad, acc = hmc_transition(x, logp, grad, log_prob, score, h, n_leapfrog, inv_mass, rng)
        if warm:
            step = adapt.update(float(np.mean(acc)))
            if it >= half // 2:
                window.append(x.copy())
            if it == half - 1 and len(window) > 2:
                inv_mass = np.var(np.concatenate(window), axis=0) + 1e-8
                adapt = DualAveraging(step, target_accept)
            if it == n_warmup - 1:
                step = adapt.final
        else:
            draws.append(x.copy())
            accepts.append(np.mean(acc))
    return {"draws": np.stack(draws), "step": step, "accept": float(np.mean(accepts))}


def split_rhat(draws: np.ndarray) -> float:
    """Largest split-R̂ (Gelman et al. 2013) over coordinates; ``draws`` has shape (n, chains, d)."""
    n = draws.shape[0] // 2
    if n < 2:
        return float("nan")
    halves = np.concatenate([draws[:n], draws[n:2 * n]], axis=1)        # (n, 2C, d)
    w = halves.var(axis=0, ddof=1).mean(axis=0)
    b = n * halves.mean(axis=0).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * w + b / n
    return float(np.max(np.sqrt(var_plus / w)))
