"""Thin Method / Dataset adapters of the attribution package (``runner.api`` contracts).

The matrices here are small (d ≤ a few hundred), where multi-threaded BLAS only adds contention:
runs use ``ctx.threads`` BLAS threads, 1 when the config leaves it at 0.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from methods.attribution.effects import ALL_METRICS
from methods.attribution.influence import ESTIMATORS
from methods.attribution.pipeline import (agreement, check_estimator, n_features, prepare_split,
                                          removal_study)
from methods.attribution.checks import closed_form_checks
from methods.attribution.plots import new_figure, scatter_figure, scatter_panel
from methods.attribution.poisoning import detection_summary, poisoning_study
from methods.attribution.removal import parse_strategies, removal_sizes, validate_fraction
from runner.api import Dataset, Method, Result, RunContext, check

TASK = "binary_classification"
DEFAULT_STRATEGIES = ("random", "cluster_l2", "top_test_pred_pos", "top_test_pred_neg")


def binary_arrays(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The dataset's ``X`` (n × d float64) and ``y`` ∈ {0, 1}."""
    X, y = np.asarray(dataset.X, dtype=np.float64), np.asarray(dataset.y, dtype=np.float64)
    check(X.ndim == 2 and len(X) == len(y), f"dataset '{dataset.name}': X must be n × d with one label per row")
    check(bool(np.all((y == 0) | (y == 1))), f"dataset '{dataset.name}': labels must be 0/1")
    return X, y


def resolve_n_train(d: int, n_train, n_train_factor) -> int:
    """n_train given directly, or n_train_factor · d (rounded)."""
    if n_train is not None:
        return int(n_train)
    check(n_train_factor is not None, "set method.n_train or method.n_train_factor")
    return int(round(float(n_train_factor) * d))


@contextmanager
def blas_threads(ctx: RunContext):
    """Limit BLAS to ``ctx.threads`` threads (1 when 0) for the duration of a run."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=ctx.threads or 1, user_api="blas"):
        yield


class _SplitMethod(Method):
    """Shared set-up of the methods that fit on a train split: estimator, λ, split sizes, BLAS."""

    task = TASK

    def _init_split(self, estimator: str, lam: float, n_train_factor, n_train, max_test,
                    leverage_floor: float) -> None:
        self.estimator = check_estimator(estimator)
        self.lam = float(lam)
        check(np.isfinite(self.lam) and self.lam > 0, f"lam must be > 0, got {lam}")
        check(n_train_factor is None or float(n_train_factor) > 0,
              f"n_train_factor must be > 0, got {n_train_factor}")
        check(n_train is None or int(n_train) >= 2, f"n_train must be >= 2, got {n_train}")
        self.n_train_factor, self.n_train = n_train_factor, n_train
        self.max_test = None if max_test is None else int(max_test)
        self.leverage_floor = float(leverage_floor)

    def _split(self, dataset: Dataset, ctx: RunContext):
        """Standardised train/test split (seeded by ``ctx``) of the dataset's binary arrays."""
        X, y = binary_arrays(dataset)
        n_train = resolve_n_train(n_features(X), self.n_train, self.n_train_factor)
        return prepare_split(X, y, n_train, ctx.sub_rng("split"), self.max_test)

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        with blas_threads(ctx):
            return self._run(dataset, ctx)

    def _run(self, dataset: Dataset, ctx: RunContext) -> Result:  # pragma: no cover - interface
        raise NotImplementedError


class InfluenceRemoval(_SplitMethod):
    """IF, RIF and NS against the exact refit on many removal sets (all estimators, one run).

    ``estimator`` picks which estimator ranks the top-influence removal sets and gives the headline
    ``slope`` / ``pearson`` metrics (of ``metric``); ``repeats`` draws that many sets per size.
    """

    def __init__(self, estimator: str = "rif", lam: float = 1e-3, n_train_factor: float | None = 2.0,
                 n_train: int | None = None, max_test: int | None = 2000, strategy=DEFAULT_STRATEGIES,
                 fraction=(0.001, 0.05), n_sizes: int = 12, repeats: int = 1, n_fixed_test: int = 100,
                 metric: str = "test_prediction", leverage_floor: float = 1e-12):
        self._init_split(estimator, lam, n_train_factor, n_train, max_test, leverage_floor)
        self.strategies = parse_strategies(strategy if isinstance(strategy, str) else list(strategy))
        self.fraction = validate_fraction(fraction if np.isscalar(fraction) else list(fraction))
        check(int(n_sizes) >= 1, f"n_sizes must be >= 1, got {n_sizes}")
        self.n_sizes = int(n_sizes)
        check(int(repeats) >= 1, f"repeats must be >= 1, got {repeats}")
        self.repeats = int(repeats)
        check(int(n_fixed_test) >= 1, f"n_fixed_test must be >= 1, got {n_fixed_test}")
        self.n_fixed_test = int(n_fixed_test)
        check(metric in ALL_METRICS, f"metric must be one of {', '.join(ALL_METRICS)}, got {metric!r}")
        self.metric = metric

    def _run(self, dataset: Dataset, ctx: RunContext) -> Result:
        split = self._split(dataset, ctx)
        sizes = np.repeat(removal_sizes(split.n, self.fraction, self.n_sizes), self.repeats)
        study = removal_study(split, self.lam, self.estimator, self.strategies, sizes, ctx.sub_rng,
                              progress=ctx.progress, n_fixed=self.n_fixed_test,
                              leverage_floor=self.leverage_floor)
        pooled = agreement(study.effects)
        metrics = {"n_train": split.n, "d": split.d, "n_test": len(split.y_test),
                   "mean_leverage": float(study.att.h.mean()), "max_leverage": float(study.att.h.max()),
                   "n_clipped": study.att.n_clipped, "n_sets": int(study.effects["set"].nunique()),
                   "test_accuracy": study.test_accuracy, "refit_max_grad": study.max_refit_grad}
        head = pooled[pooled["metric"] == self.metric].set_index("estimator")
        metrics["slope"] = float(head.loc[self.estimator, "slope"])
        metrics["pearson"] = float(head.loc[self.estimator, "pearson"])
        for e in ESTIMATORS:
            metrics[f"{e}/slope"] = float(head.loc[e, "slope"])
            metrics[f"{e}/pearson"] = float(head.loc[e, "pearson"])
        for row in pooled[~pooled["metric"].str.endswith("_lin")].itertuples():  # _lin: agreement table
            metrics[f"{row.estimator}/slope/{row.metric}"] = row.slope
            metrics[f"{row.estimator}/pearson/{row.metric}"] = row.pearson
        metrics.update({f"time/{k}": v for k, v in study.timings.items()})
        ctx.log.info("n_train=%d d=%d mean leverage=%.3f; slope (%s): %s", split.n, split.d,
                     metrics["mean_leverage"], self.metric,
                     ", ".join(f"{e}={metrics[f'{e}/slope']:.3f}" for e in ESTIMATORS))
        fig = scatter_figure(study.effects, suptitle=f"{dataset.name}: n = {split.n}, d = {split.d}, "
                                                     f"λ = {self.lam:g}")
        return Result(metrics=metrics,
                      tables={"effects": study.effects,
                              "agreement": agreement(study.effects, by=["strategy"])},
                      figures={"predicted_vs_actual": fig})


class Poisoning(_SplitMethod):
    """Label-flip poisons of random test points; predicted vs actual logit change of the attacked
    point when the poison is removed, and how many poisons each estimator flags (``poisoning.py``).
    ``estimator`` gives the headline ``detect_rate`` / ``median_ratio`` / ``auc``."""

    def __init__(self, estimator: str = "rif", lam: float = 1e-3, n_train_factor: float | None = 2.0,
                 n_train: int | None = None, max_test: int | None = 2000, n_poisons: int = 25,
                 threshold: float = 0.5, leverage_floor: float = 1e-12):
        self._init_split(estimator, lam, n_train_factor, n_train, max_test, leverage_floor)
        check(int(n_poisons) >= 1, f"n_poisons must be >= 1, got {n_poisons}")
        self.n_poisons = int(n_poisons)
        check(0 < float(threshold) < 1, f"threshold must lie in (0, 1), got {threshold}")
        self.threshold = float(threshold)

    def _run(self, dataset: Dataset, ctx: RunContext) -> Result:
        split = self._split(dataset, ctx)
        n_att = min(self.n_poisons, len(split.y_test))
        targets = np.sort(ctx.sub_rng("poison_targets").choice(len(split.y_test), size=n_att, replace=False))
        attacks = poisoning_study(split.X_train, split.y_train, split.X_test, split.y_test, self.lam,
                                  targets, ctx.progress, self.leverage_floor)
        summary = detection_summary(attacks, self.threshold)
        metrics = {"n_train": split.n, "d": split.d, "n_poisons": n_att,
                   "mean_h_poison": float(attacks["h_poison"].mean()),
                   "mean_abs_actual": float(attacks["actual"].abs().mean())}
        head = summary.set_index("estimator")
        for key in ("detect_rate", "median_ratio", "auc"):
            metrics[key] = float(head.loc[self.estimator, key])
        for row in summary.itertuples():
            for key in ("detect_rate", "median_ratio", "mean_abs_pred", "auc", "top1"):
                metrics[f"{row.estimator}/{key}"] = float(getattr(row, key))
        fig, axes = new_figure(1)
        scatter_panel(axes[0][0], attacks, title=f"{dataset.name}: removing a label-flip poison")
        axes[0][0].set_xlabel("actual change of the attacked logit")
        axes[0][0].set_ylabel("predicted change")
        return Result(metrics=metrics, tables={"attacks": attacks, "detection": summary},
                      figures={"poison_effects": fig})


class ClosedFormChecks(Method):
    """E4: the spec's closed-form identities measured on the dataset's training split
    (``checks.py``); every metric is an error or an invariant."""

    task = TASK

    def __init__(self, lam: float = 1e-2, n_train: int = 200, n_probe: int = 10):
        self.lam = float(lam)
        check(np.isfinite(self.lam) and self.lam > 0, f"lam must be > 0, got {lam}")
        check(int(n_train) >= 4, f"n_train must be >= 4, got {n_train}")
        self.n_train, self.n_probe = int(n_train), int(n_probe)

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        with blas_threads(ctx):
            X, y = binary_arrays(dataset)
            split = prepare_split(X, y, self.n_train, ctx.sub_rng("split"))
            out = closed_form_checks(split.X_train, split.y_train, self.lam, ctx.sub_rng("checks"), self.n_probe)
        return Result(metrics={"n_train": split.n, "d": split.d, **out})


class SyntheticLogistic(Dataset):
    """Synthetic (generated) logistic data: xᵢ ~ N(0, I_d), θ* = ``theta_norm``·u with u uniform on the
    sphere, yᵢ ~ Bernoulli(σ(xᵢᵀθ*)).  Seeded by ``seed``."""

    task = TASK
    provenance = "generated"

    def __init__(self, n: int = 2000, d: int = 100, theta_norm: float = 3.0, seed: int = 0):
        check(int(d) >= 1 and int(n) >= 2, f"synthetic data needs d >= 1 and n >= 2, got n={n}, d={d}")
        check(int(seed) >= 0, f"seed must be >= 0, got {seed}")
        self.n, self.d, self.theta_norm, self.seed = int(n), int(d), float(theta_norm), int(seed)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EED]))
            u = rng.standard_normal(self.d)
            theta = self.theta_norm * u / np.linalg.norm(u)
            X = rng.standard_normal((self.n, self.d))
            y = (rng.random(self.n) < 1.0 / (1.0 + np.exp(-X @ theta))).astype(np.float64)
            self._cache = (X, y)
        return self._cache

    @property
    def X(self) -> np.ndarray:
        return self._arrays()[0]

    @property
    def y(self) -> np.ndarray:
        return self._arrays()[1]

    def describe(self) -> dict:
        return {**super().describe(), "n": self.n, "d": self.d, "synthetic": True}
