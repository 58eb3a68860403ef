"""mlrun Dataset adapters: each builds one target (``targets``) lazily and carries the paper's
initialisation defaults for it (Table 1 of the paper: init box ``init_s``, init variance ``init_r``,
step size ``lr``), used by a method whose own value is left null."""
from __future__ import annotations

from functools import cached_property

import numpy as np

from runner.api import Dataset, check


class _TargetDataset(Dataset):
    task = "density"
    provenance = "generated"

    def __init__(self, init_s: float, init_r: float, lr: float):
        check(init_s > 0 and init_r > 0 and lr > 0,
              f"dataset init_s, init_r and lr must be > 0, got {init_s}, {init_r}, {lr}")
        self.vi_defaults = {"init_s": float(init_s), "init_r": float(init_r), "lr": float(lr)}

    @cached_property
    def target(self):  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self):
        return {**super().describe(), **self.vi_defaults, "synthetic": self.provenance == "generated"}


class GaussianDataset(_TargetDataset):
    """Synthetic N(μ, diag σ²) in d dimensions, μ ~ N(0, I), σ² ~ U(var_low, var_high) (seeded)."""

    def __init__(self, d: int = 10, var_low: float = 0.5, var_high: float = 3.0, target_seed: int = 0,
                 init_s: float = 5.0, init_r: float = 1.0, lr: float = 0.1):
        super().__init__(init_s, init_r, lr)
        check(d >= 1, f"dataset.d must be >= 1, got {d}")
        check(0 < var_low <= var_high, f"need 0 < var_low <= var_high, got {var_low}, {var_high}")
        self.d, self.var_low, self.var_high, self.target_seed = d, var_low, var_high, target_seed

    @cached_property
    def target(self):
        from .targets import DiagonalGaussian

        rng = np.random.default_rng(self.target_seed)
        return DiagonalGaussian(rng.standard_normal(self.d), rng.uniform(self.var_low, self.var_high, self.d))

    def describe(self):
        return {**super().describe(), "d": self.d}


class MixtureDataset(_TargetDataset):
    """Synthetic Gaussian mixture from the spec's generator (means U[-spread, spread]^d, integer
    weights, 'diag' | 'full' | 'iso' covariances scaled by ``scale``), fixed ``target_seed``."""

    def __init__(self, d: int = 2, n_modes: int = 5, spread: float = 8.0, scale: float = 5.0,
                 cov: str = "diag", target_seed: int = 0, init_s: float = 15.0, init_r: float = 2.0,
                 lr: float = 0.1):
        super().__init__(init_s, init_r, lr)
        check(d >= 1 and n_modes >= 1, f"dataset.d and n_modes must be >= 1, got {d}, {n_modes}")
        check(spread > 0 and scale > 0, f"dataset.spread and scale must be > 0, got {spread}, {scale}")
        check(cov in ("diag", "full", "iso"), f"dataset.cov must be diag, full or iso, got {cov!r}")
        self.d, self.n_modes, self.spread, self.scale, self.cov = d, n_modes, spread, scale, cov
        self.target_seed = target_seed

    @cached_property
    def target(self):
        from .targets import random_mixture

        return random_mixture(self.d, self.n_modes, self.spread, self.scale, self.cov,
                              np.random.default_rng(self.target_seed))

    def describe(self):
        return {**super().describe(), "d": self.d, "n_modes": self.n_modes}


class BimodalDataset(_TargetDataset):
    """Synthetic unbalanced 2-D bimodal mixture, weights (p, 1-p), modes ``separation`` apart;
    mixture means start in balls of radius ``init_radius`` around the modes (App. E.4)."""

    def __init__(self, p: float = 0.1, separation: float = 8.0, init_radius: float = 0.5,
                 init_s: float = 1.0, init_r: float = 1.0, lr: float = 0.01):
        super().__init__(init_s, init_r, lr)
        check(0 < p < 1, f"dataset.p must be in (0, 1), got {p}")
        check(separation > 0 and init_radius >= 0, "dataset.separation must be > 0, init_radius >= 0")
        self.p, self.separation, self.init_radius = p, separation, init_radius

    @cached_property
    def target(self):
        from .targets import BimodalTarget

        return BimodalTarget(self.p, self.separation, self.init_radius)


class FunnelDataset(_TargetDataset):
    """Synthetic 2-D Neal funnel with Var(x1) = ``var``."""

    def __init__(self, var: float = 1.2, init_s: float = 5.0, init_r: float = 0.5, lr: float = 0.01):
        super().__init__(init_s, init_r, lr)
        check(var > 0, f"dataset.var must be > 0, got {var}")
        self.var = var

    @cached_property
    def target(self):
        from .targets import Funnel

        return Funnel(self.var)


class SinhArcsinhDataset(_TargetDataset):
    """Synthetic 2-D sinh-arcsinh target with skewness ``skew`` and tail parameter τ⁻¹ = ``inv_tail``."""

    def __init__(self, skew=(-0.2, -0.2), inv_tail: float = 1.2, rho: float = 0.4,
                 init_s: float = 10.0, init_r: float = 2.0, lr: float = 0.001):
        super().__init__(init_s, init_r, lr)
        check(len(skew) == 2, f"dataset.skew needs 2 values, got {list(skew)}")
        check(inv_tail > 0 and -1 < rho < 1, "dataset.inv_tail must be > 0 and rho in (-1, 1)")
        self.skew, self.inv_tail, self.rho = tuple(float(s) for s in skew), inv_tail, rho

    @cached_property
    def target(self):
        from .targets import SinhArcsinh

        return SinhArcsinh(self.skew, self.inv_tail, self.rho)


class LogisticDataset(_TargetDataset):
    """Bayesian logistic regression posterior on a real scikit-learn data set (breast_cancer:
    binary, d = 30; wine: multinomial, 3 classes, d = 39).  Split: permutation with
    ``split_seed``, first ``train_ratio`` for training; StandardScaler fitted on the train split;
    no intercept; prior N(0, prior_var I)."""

    provenance = "embedded"

    def __init__(self, loader: str = "breast_cancer", prior_var: float = 100.0, train_ratio: float = 0.5,
                 split_seed: int = 42, init_s: float = 20.0, init_r: float = 10.0, lr: float = 0.01):
        super().__init__(init_s, init_r, lr)
        check(loader in ("breast_cancer", "wine"), f"dataset.loader must be breast_cancer or wine, got {loader!r}")
        check(prior_var > 0, f"dataset.prior_var must be > 0, got {prior_var}")
        check(0 < train_ratio < 1, f"dataset.train_ratio must be in (0, 1), got {train_ratio}")
        self.loader, self.prior_var, self.train_ratio, self.split_seed = loader, prior_var, train_ratio, split_seed

    @cached_property
    def target(self):
        from runner.data.tabular import SklearnDataset

        from .targets import LogisticPosterior

        task = "binary_classification" if self.loader == "breast_cancer" else "multiclass"
        raw = SklearnDataset(self.loader, task=task)
        X, y = raw.X, raw.y.astype(int)
        perm = np.random.default_rng(self.split_seed).permutation(len(X))
        n_train = int(round(self.train_ratio * len(X)))
        tr, te = perm[:n_train], perm[n_train:]
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        sd[sd == 0] = 1.0
        return LogisticPosterior((X[tr] - mu) / sd, y[tr], (X[te] - mu) / sd, y[te],
                                 int(y.max()) + 1, self.prior_var)

    def describe(self):
        return {**super().describe(), "loader": self.loader, "prior_var": self.prior_var}
