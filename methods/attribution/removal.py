"""Removal-set strategies of the paper (8) and the grid of removal sizes.

Influence scores for the top-influence strategies: sᵢ = (Σ_{j∈F} ∇f_j)ᵀ Δθᵢ, the predicted change of
a test quantity f (loss or prediction summed over the fixed test set F) when sample i is removed
(Δθᵢ from the chosen estimator).  "Top" strategies draw k at random from the top 2k, as the paper's
code does, not the exact top k.
"""
from __future__ import annotations

import numpy as np

from runner.api import UserError, check

STRATEGIES = (
    "random",              # uniformly random subsets
    "cluster_feature",     # k nearest samples to a random sample along one random feature
    "cluster_l2",          # k nearest samples to a random sample in L2
    "high_loss",           # highest training loss
    "top_test_loss_pos",   # highest positive influence on the fixed test loss
    "top_test_loss_neg",   # highest negative influence on the fixed test loss
    "top_test_pred_pos",   # highest positive influence on the fixed test predictions
    "top_test_pred_neg",   # highest negative influence on the fixed test predictions
)

# strategy -> (score name, sign)
_SCORED = {
    "high_loss": ("loss", 1.0),
    "top_test_loss_pos": ("test_loss", 1.0),
    "top_test_loss_neg": ("test_loss", -1.0),
    "top_test_pred_pos": ("test_pred", 1.0),
    "top_test_pred_neg": ("test_pred", -1.0),
}


def parse_strategies(strategy) -> list[str]:
    """A strategy name, a list of names, or ``all`` → a validated list."""
    names = list(STRATEGIES) if strategy in ("all", ["all"]) else (
        [strategy] if isinstance(strategy, str) else list(strategy))
    unknown = [s for s in names if s not in STRATEGIES]
    check(names and not unknown, f"unknown removal strategy {unknown or names}; known: "
                                 f"{', '.join(STRATEGIES)} (or 'all')")
    return names


def removal_sizes(n: int, fraction=(0.001, 0.05), n_sizes: int = 12) -> np.ndarray:
    """k = linspace(f_min·n, f_max·n, n_sizes) cast to int, with k ≥ 1 and duplicates removed
    (the plain cast gives zeros and repeats at small n)."""
    lo, hi = validate_fraction(fraction)
    check(int(n_sizes) >= 1, f"n_sizes must be >= 1, got {n_sizes}")
    k = np.linspace(lo * n, hi * n, int(n_sizes)).astype(int)
    return np.unique(np.clip(k, 1, max(1, n // 2)))


def validate_fraction(fraction) -> tuple[float, float]:
    """The removal fraction range (lo, hi) with 0 < lo ≤ hi < 1 (a single number means (f, f))."""
    try:
        lo, hi = (fraction, fraction) if np.isscalar(fraction) else tuple(fraction)
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise UserError(f"fraction must be a number or [min, max] in (0, 1), got {fraction!r}") from None
    check(0.0 < lo < 1.0 and 0.0 < hi < 1.0 and lo <= hi,
          f"removal fraction must lie in (0, 1) with min <= max, got [{lo:g}, {hi:g}]")
    return lo, hi


def top_from_2k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k indices drawn without replacement from the 2k highest ``scores``."""
    top = np.argsort(-scores, kind="stable")[: min(2 * k, len(scores))]
    return np.sort(rng.choice(top, size=k, replace=False))


def removal_set(strategy: str, k: int, X: np.ndarray, scores: dict[str, np.ndarray],
                rng: np.random.Generator) -> np.ndarray:
    """One removal set of size k (sorted indices into the training set)."""
    n = len(X)
    if strategy == "random":
        return np.sort(rng.choice(n, size=k, replace=False))
    if strategy == "cluster_feature":
        j, i = rng.integers(X.shape[1]), rng.integers(n)
        dist = np.abs(X[:, j] - X[i, j])
        # ties (binary or constant features) are broken at random, not by index order
        return np.sort(np.lexsort((rng.random(n), dist))[:k])
    if strategy == "cluster_l2":
        i = rng.integers(n)
        return np.sort(np.argsort(np.linalg.norm(X - X[i], axis=1), kind="stable")[:k])
    name, sign = _SCORED[strategy]
    return top_from_2k(sign * scores[name], k, rng)
