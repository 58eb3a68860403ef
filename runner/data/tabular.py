"""Tabular datasets shared by several papers: scikit-learn's bundled sets and any CSV file.

Both give a float64 feature matrix ``X`` (n × d) and a target ``y``.  For the
``binary_classification`` task, ``y`` is mapped to {0, 1}: ``classes=[a, b]`` keeps the rows of
those two labels, ``a`` → 0 and ``b`` → 1; without ``classes`` the target must have exactly two
distinct values (sorted order gives 0 and 1).
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from runner.api import Dataset, UserError, check, check_finite

SKLEARN_LOADERS = {
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "wine": "load_wine",
    "iris": "load_iris",
    "diabetes": "load_diabetes",
}


def binarize(y: np.ndarray, classes: Sequence | None) -> tuple[np.ndarray, np.ndarray]:
    """Rows to keep and labels in {0, 1}: ``classes[0]`` → 0, ``classes[1]`` → 1."""
    if classes is None:
        values = np.unique(y)
        check(len(values) == 2, f"a binary task needs exactly 2 target values, found {len(values)}; "
                                "set dataset.classes=[a,b]")
        classes = list(values)
    check(len(classes) == 2, f"dataset.classes must name exactly 2 labels, got {list(classes)}")
    keep = np.isin(y, classes)
    check(keep.sum() > 0, f"no rows with labels {list(classes)}")
    return keep, (y[keep] == classes[1]).astype(np.float64)


class TabularDataset(Dataset):
    """Base: subclasses implement ``_raw() -> (X, y, feature_names)``; loads once, lazily."""

    task = "binary_classification"

    def __init__(self, task: str = "binary_classification", classes: Sequence | None = None):
        self.task = task
        self.classes = list(classes) if classes is not None else None

    def _raw(self) -> tuple[np.ndarray, np.ndarray, list[str]]:  # pragma: no cover - interface
        raise NotImplementedError

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        X, y, _ = self._raw()
        if self.task == "binary_classification":
            keep, y = binarize(y, self.classes)
            X = X[keep]
        elif self.classes is not None:
            keep = np.isin(y, self.classes)
            X, y = X[keep], y[keep]
        check_finite(f"dataset '{self.name}' features", X)
        check_finite(f"dataset '{self.name}' target", y)
        return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)

    @property
    def X(self) -> np.ndarray:
        return self.arrays[0]

    @property
    def y(self) -> np.ndarray:
        return self.arrays[1]

    def describe(self) -> dict:
        n, d = self.X.shape
        return {**super().describe(), "n": int(n), "d": int(d)}


class SklearnDataset(TabularDataset):
    """One of scikit-learn's bundled data sets (real data, shipped in the wheel)."""

    provenance = "embedded"

    def __init__(self, loader: str, task: str = "binary_classification",
                 classes: Sequence | None = None):
        check(loader in SKLEARN_LOADERS,
              f"unknown sklearn data set '{loader}'; known: {', '.join(SKLEARN_LOADERS)}")
        super().__init__(task, classes)
        self.loader = loader

    def _raw(self):
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, SKLEARN_LOADERS[self.loader])()
        names = [str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1]))]
        return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), names


class CsvDataset(TabularDataset):
    """Any CSV file with a header: numeric feature columns and one target column."""

    def __init__(self, path: str | None, target: str | None, task: str = "binary_classification",
                 classes: Sequence | None = None, features: Sequence[str] | None = None):
        check(path not in (None, "", "???"), "dataset=csv needs dataset.path=/path/to/file.csv")
        check(target not in (None, "", "???"), "dataset=csv needs dataset.target=<column name>")
        super().__init__(task, classes)
        self.path = Path(str(path)).expanduser()
        self.target = str(target)
        self.features = list(features) if features is not None else None
        self.provenance = f"file:{self.path}"

    def _raw(self):
        import pandas as pd

        if not self.path.is_file():
            raise UserError(f"CSV file not found: {self.path} (set dataset.path to an existing file)")
        df = pd.read_csv(self.path)
        if self.target not in df.columns:
            raise UserError(f"target column '{self.target}' not in {self.path.name}; "
                            f"columns: {', '.join(map(str, df.columns))}")
        features = self.features or [c for c in df.columns if c != self.target]
        missing = [c for c in features if c not in df.columns]
        check(not missing, f"feature columns not in {self.path.name}: {', '.join(missing)}")
        X = df[features]
        bad = [c for c in features if not pd.api.types.is_numeric_dtype(X[c])]
        check(not bad, f"non-numeric feature column(s) in {self.path.name}: {', '.join(map(str, bad))}")
        y = df[self.target].to_numpy()
        if self.task != "binary_classification":
            check(pd.api.types.is_numeric_dtype(df[self.target]),
                  f"target column '{self.target}' is not numeric")
        return X.to_numpy(dtype=np.float64), y, [str(c) for c in features]
