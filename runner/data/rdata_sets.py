"""Data sets shipped as ``.rda`` files in Debian's R packages (``r-cran-kernlab``, ``r-cran-mlbench``),
read without R through the ``rdata`` package.  ``make data`` unpacks the .debs into
``<data_dir>/deb`` (``apt-get download r-cran-kernlab && dpkg-deb -x r-cran-kernlab_*.deb data/deb``),
so a set lives at ``<root>/usr/lib/R/site-library/<package>/data/<item>.rda``.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from runner.api import UserError, check
from runner.data.tabular import TabularDataset

SITE_LIBRARY = "usr/lib/R/site-library"


def rda_path(root: Path, package: str, item: str) -> Path:
    return root / SITE_LIBRARY / package / "data" / f"{item}.rda"


def read_rda_frame(path: Path, item: str):
    """The data frame ``item`` of an ``.rda`` file (pandas)."""
    try:
        import rdata
    except ImportError:
        raise UserError("reading R data sets needs the 'rdata' package: pip install rdata") from None
    with warnings.catch_warnings():  # old .rda files carry no encoding flag; ASCII is right for these
        warnings.filterwarnings("ignore", message="Unknown encoding", category=UserWarning)
        objects = rdata.read_rda(str(path))
    check(item in objects, f"{path} holds no object '{item}' (found: {', '.join(objects)})")
    return objects[item]


class RDataDataset(TabularDataset):
    """One data frame of an R package's ``data/`` folder; factor features become integer codes."""

    def __init__(self, package: str, item: str, target: str, root: str = "data/deb",
                 task: str = "binary_classification", classes: Sequence | None = None):
        super().__init__(task, classes)
        self.package, self.item, self.target = package, item, target
        self.root = Path(str(root)).expanduser()
        self.path = rda_path(self.root, package, item)
        self.provenance = f"file:{self.path}"

    def _raw(self):
        if not self.path.is_file():
            raise UserError(f"{self.item}.rda not found at {self.path}: run `make data` (apt-get download "
                            f"r-cran-{self.package} && dpkg-deb -x r-cran-{self.package}_*.deb {self.root}) "
                            "or set dataset.root")
        df = read_rda_frame(self.path, self.item)
        check(self.target in df.columns, f"target column '{self.target}' not in {self.item}; "
                                         f"columns: {', '.join(map(str, df.columns))}")
        features = [c for c in df.columns if c != self.target]
        cols = []
        for c in features:
            s = df[c]
            cols.append(s.cat.codes.to_numpy(np.float64) if hasattr(s, "cat") else s.to_numpy(np.float64))
        y = df[self.target].astype(str).to_numpy() if hasattr(df[self.target], "cat") else df[self.target].to_numpy()
        return np.column_stack(cols), y, [str(c) for c in features]
