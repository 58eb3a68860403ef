"""From a binary data set to predicted-vs-actual removal effects (the paper's figure-1 protocol).

1. split (seeded), drop features constant over the whole data set, standardise with the training
   statistics, append a bias column: d = features + 1;
2. fit θ̂ (Newton, ‖∇L‖ ≤ 1e-10);
3. the fixed test set F: the 50 highest-loss test points plus 50 random other ones;
4. removal sets per strategy and size; for each: IF, RIF, NS estimates and the exact refit;
5. every metric of ``effects.py`` for every estimator and for the refit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from methods.attribution.effects import ALL_METRICS, Effects, pearson, slope
from methods.attribution.influence import ESTIMATORS, Attribution
from methods.attribution.logistic import fit_logistic, refit_without, sample_losses
from methods.attribution.removal import removal_set
from runner.api import UserError, check

MIN_TEST = 10


@dataclass
class Split:
    """Standardised train/test arrays with a trailing bias column."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n(self) -> int:
        return len(self.y_train)

    @property
    def d(self) -> int:
        return self.X_train.shape[1]


def n_features(X: np.ndarray) -> int:
    """d after preprocessing: non-constant columns plus the bias."""
    return int((np.ptp(X, axis=0) > 0).sum()) + 1


def prepare_split(X: np.ndarray, y: np.ndarray, n_train: int, rng: np.random.Generator,
                  max_test: int | None = None) -> Split:
    """Seeded split into n_train training rows and the rest (at most ``max_test``) as test rows;
    constant columns dropped, z-scored with training mean/std (a column constant in the training
    rows is only centred), then a bias column of ones."""
    n = len(y)
    check(len(np.unique(y)) == 2, "the data set must contain both classes")
    check(n_train >= 2, f"n_train must be >= 2, got {n_train}")
    check(n_train + MIN_TEST <= n, f"n_train = {n_train} leaves fewer than {MIN_TEST} test rows "
                                   f"(the data set has {n} rows); lower n_train or n_train_factor")
    X = X[:, np.ptp(X, axis=0) > 0]
    perm = rng.permutation(n)
    tr, te = perm[:n_train], perm[n_train:]
    if max_test is not None:
        te = te[:max_test]
    mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
    sd[sd == 0] = 1.0

    def z(rows):
        return np.hstack([(X[rows] - mu) / sd, np.ones((len(rows), 1))])

    return Split(z(tr), y[tr].astype(np.float64), z(te), y[te].astype(np.float64))


def fixed_test_indices(X_test, y_test, theta, rng, n_high: int = 50, n_random: int = 50) -> np.ndarray:
    """F = the ``n_high`` highest-loss test points plus ``n_random`` random others (fewer if the test
    set is small)."""
    losses = sample_losses(X_test @ theta, y_test)
    order = np.argsort(-losses, kind="stable")
    high = order[: min(n_high, len(order))]
    rest = order[len(high):]
    rand = rng.choice(rest, size=min(n_random, len(rest)), replace=False)
    return np.sort(np.concatenate([high, rand]))


def influence_scores(att: Attribution, eff: Effects, estimator: str) -> dict[str, np.ndarray]:
    """Per-sample scores ranking the high-loss and top-influence strategies: the training loss, and
    the predicted change of the fixed test loss / prediction when sample i alone is removed."""
    per = att.per_sample(estimator)
    return {"loss": sample_losses(att.X @ att.theta, att.y),
            "test_loss": per @ eff.grad_loss, "test_pred": per @ eff.grad_pred}


@dataclass
class Study:
    """The outcome of :func:`removal_study`."""

    effects: pd.DataFrame    # one row per (removal set, metric): strategy, k, metric, actual, if, rif, ns
    att: Attribution
    test_accuracy: float
    timings: dict[str, float]
    max_refit_grad: float


def removal_study(split: Split, lam: float, estimator: str, strategies: list[str],
                  sizes: np.ndarray, rng_for, progress=None, n_fixed: int = 100,
                  leverage_floor: float = 1e-12) -> Study:
    """Run the protocol above.  ``rng_for(key)`` returns a seeded Generator for a named stream
    (``ctx.sub_rng``); ``progress(iterable, total, desc)`` wraps the loop over removal sets."""
    Xtr, ytr = split.X_train, split.y_train
    t0 = time.perf_counter()
    theta = fit_logistic(Xtr, ytr, lam).theta
    t1 = time.perf_counter()
    att = Attribution(Xtr, ytr, theta, lam, leverage_floor)
    _ = att.IF
    t2 = time.perf_counter()
    _ = att.RIF
    t3 = time.perf_counter()
    F = fixed_test_indices(split.X_test, split.y_test, theta, rng_for("fixed_test"),
                           n_high=n_fixed // 2, n_random=n_fixed - n_fixed // 2)
    eff = Effects(Xtr, ytr, split.X_test[F], split.y_test[F], theta, lam, att.H)
    scores = influence_scores(att, eff, estimator)
    features = Xtr[:, :-1]
    sets = [(s, int(k), removal_set(s, int(k), features, scores, rng_for("sets", s)))
            for s in strategies for k in sizes]
    rows, t_ns, t_refit, max_grad = [], 0.0, 0.0, 0.0
    loop = progress(sets, len(sets), "removal sets") if progress else sets
    for set_id, (strategy, k, T) in enumerate(loop):
        ta = time.perf_counter()
        est = att.estimates(T)
        tb = time.perf_counter()
        fit = refit_without(Xtr, ytr, lam, theta, T)
        tc = time.perf_counter()
        t_ns += tb - ta
        t_refit += tc - tb
        max_grad = max(max_grad, fit.grad_norm)
        deltas = np.stack([fit.theta - theta] + [est[e] for e in ESTIMATORS])
        values = eff(deltas)
        for metric in ALL_METRICS:
            v = values[metric]
            rows.append({"set": set_id, "strategy": strategy, "k": k, "metric": metric,
                         "actual": v[0], **{e: v[i + 1] for i, e in enumerate(ESTIMATORS)}})
    acc = float(np.mean((split.X_test @ theta > 0) == (split.y_test > 0.5)))
    timings = {"fit": t1 - t0, "if": t2 - t1, "rif_extra": t3 - t2, "ns": t_ns, "refit": t_refit}
    return Study(pd.DataFrame(rows), att, acc, timings, max_grad)


def agreement(effects: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Slope through the origin and Pearson r of predicted vs actual for every estimator, per
    ``metric`` (and per extra ``by`` columns, e.g. ``strategy``)."""
    keys = ["metric"] + list(by or [])
    out = []
    for key, g in effects.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for e in ESTIMATORS:
            out.append({**dict(zip(keys, key)), "estimator": e, "n_sets": len(g),
                        "slope": slope(g[e], g["actual"]), "pearson": pearson(g[e], g["actual"])})
    return pd.DataFrame(out)


def check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        raise UserError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    return estimator
