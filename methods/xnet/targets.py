"""Function-approximation targets (all synthetic: generated from formulas and a seed).

* ``heaviside``: H(x) = 1[x > 0] on [−1, 1]; the paper's training set is the grid
  linspace(−1, 1, 1000) (which does not contain 0), the metric the MSE on that grid.
* ``f1``: exp(sin(πx) + y²) on [−1, 1]² (the pykan canonical function).
* ``f2``: exp(½(sin(π(x1² + x2²)) + sin(π(x3² + x4²)))) on [−1, 1]⁴.
"""
from __future__ import annotations

import numpy as np

from runner.api import Dataset, check


def heaviside(x: np.ndarray) -> np.ndarray:
    """H(x) = 1[x > 0], with H(0) = ½ so a grid through 0 is not biased by the convention."""
    x = x[:, 0]
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, 0.5))


def f1(x: np.ndarray) -> np.ndarray:
    """f1(x, y) = exp(sin(πx) + y²)."""
    return np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)


def f2(x: np.ndarray) -> np.ndarray:
    """f2(x) = exp(½·(sin(π(x1² + x2²)) + sin(π(x3² + x4²))))."""
    return np.exp(0.5 * (np.sin(np.pi * (x[:, 0] ** 2 + x[:, 1] ** 2))
                         + np.sin(np.pi * (x[:, 2] ** 2 + x[:, 3] ** 2))))


TARGETS = {"heaviside": (heaviside, 1), "f1": (f1, 2), "f2": (f2, 4)}


class FunctionTarget(Dataset):
    """A regression target on [−1, 1]^d (synthetic).

    Training inputs: the grid linspace(−1, 1, n_train) for 1-D targets when ``train_grid``,
    otherwise uniform draws; test inputs: ``n_test`` uniform draws.  Gaussian label noise of
    standard deviation ``noise`` is added to the training labels only.  ``band`` > 0 also
    reports the test MSE on |x| ≥ band (the jump region of the Heaviside excluded).
    The data seed is the dataset's own (``seed``), so every method sees the same data.
    """

    task = "function"
    provenance = "generated"

    def __init__(self, target: str = "heaviside", n_train: int = 1000, n_test: int = 20000,
                 train_grid: bool = True, noise: float = 0.0, band: float = 0.0, seed: int = 0):
        check(target in TARGETS, f"dataset.target must be one of {', '.join(TARGETS)}, got {target!r}")
        check(n_train >= 2 and n_test >= 1, f"dataset.n_train must be >= 2 and n_test >= 1, got {n_train}, {n_test}")
        check(noise >= 0 and np.isfinite(noise), f"dataset.noise must be a finite value >= 0, got {noise}")
        check(band >= 0, f"dataset.band must be >= 0, got {band}")
        self.target, self.n_train, self.n_test = target, n_train, n_test
        self.train_grid, self.noise, self.band, self.seed = train_grid, noise, band, seed
        self.fn, self.dim = TARGETS[target]
        self._data: dict[str, np.ndarray] | None = None

    def load(self) -> dict[str, np.ndarray]:
        """x_train (n, d), y_train (n,), x_test, y_test; generated once, deterministic in ``seed``."""
        if self._data is None:
            rng = np.random.default_rng(self.seed)
            if self.train_grid and self.dim == 1:
                x_train = np.linspace(-1.0, 1.0, self.n_train)[:, None]
            else:
                x_train = rng.uniform(-1.0, 1.0, (self.n_train, self.dim))
            y_train = self.fn(x_train) + self.noise * rng.standard_normal(self.n_train)
            x_test = rng.uniform(-1.0, 1.0, (self.n_test, self.dim))
            self._data = {"x_train": x_train, "y_train": y_train, "x_test": x_test,
                          "y_test": self.fn(x_test)}
        return self._data

    def describe(self) -> dict:
        return {**super().describe(), "target": self.target, "dim": self.dim, "n_train": self.n_train,
                "n_test": self.n_test, "noise": self.noise, "synthetic": True}
