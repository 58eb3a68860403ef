"""The contract of a paper module ``experiments/<slug>.py`` and the objects it receives.

A paper module defines:

``EXPERIMENTS: list[str]``
    names of the sweeps it needs, each a config ``conf/experiment/<slug>/<name>.yaml``; ``make
    reproduce-<slug>`` runs ``mlrun experiment=<slug>/<name> scale=<scale>`` for each, in order.

``def report(runs: RunSet, out: ReportWriter) -> list[Claim]``
    builds the paper's tables and figures from the collected runs (through ``out``) and returns
    one :class:`Claim` per acceptance criterion of the spec.  ``mlrun-report <slug>`` writes them
    to ``outputs/reports/<slug>/`` with ``REPORT.md`` and ``scorecard.csv``.

Optionally ``TITLE: str`` (the paper's title, for the report header) and ``SUMMARY: str``.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Claim:
    """One row of ``scorecard.csv``: a claim of the paper, measured against its threshold."""

    claim_id: str
    claim: str
    experiment: str
    measured: Any
    threshold: str
    passed: bool

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        m = d["measured"]
        if isinstance(m, float) and math.isfinite(m):
            d["measured"] = float(f"{m:.4g}")
        d["passed"] = bool(d["passed"])
        return d


class RunSet:
    """The runs collected for a report.

    ``frame`` has one row per run folder: ``run_dir``, ``status``, ``experiment`` (the sweep
    name's last part, e.g. ``e1_synthetic_sweep``), ``method``, ``dataset``, ``seed``, every
    command-line override as its own column (``dataset.n_factor`` ...), and every metric of
    ``metrics.json`` as a column (``if/slope`` ...).  Only completed runs count in ``ok``.
    """

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    @property
    def ok(self) -> pd.DataFrame:
        f = self.frame
        return f[f["status"] == "completed"] if len(f) else f

    def experiment(self, name: str) -> pd.DataFrame:
        """Completed runs of one experiment (sweep)."""
        f = self.ok
        return f[f["experiment"] == name] if len(f) else f

    @staticmethod
    def table(run_dir: str | Path, name: str) -> pd.DataFrame:
        """A table a run saved with ``ctx.save_table(name, df)``."""
        return pd.read_csv(Path(run_dir) / "tables" / f"{name}.csv")

    @staticmethod
    def config(run_dir: str | Path) -> dict:
        """The run's resolved config (``.hydra/config.yaml``) as a dict."""
        from omegaconf import OmegaConf

        return OmegaConf.to_container(OmegaConf.load(Path(run_dir) / ".hydra" / "config.yaml"))

    @staticmethod
    def run_json(run_dir: str | Path) -> dict:
        return json.loads((Path(run_dir) / "run.json").read_text())


class ReportWriter:
    """Collects the tables, figures and prose of one report; ``runner.report`` writes them."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.sections: list[tuple[str, str, Any]] = []  # (kind, name, payload)

    def table(self, name: str, df: pd.DataFrame, caption: str = "") -> None:
        """A table: written as ``<name>.csv`` and ``<name>.md`` and embedded in REPORT.md."""
        self.sections.append(("table", name, (df, caption)))

    def figure(self, name: str, fig, caption: str = "") -> None:
        """A matplotlib figure: written as ``figures/<name>.png`` and embedded in REPORT.md."""
        self.sections.append(("figure", name, (fig, caption)))

    def text(self, markdown: str) -> None:
        """A paragraph of Markdown in REPORT.md."""
        self.sections.append(("text", "", markdown))


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n); 0 for one value) of finite ``values``."""
    s = pd.Series(values, dtype=float).dropna()
    if len(s) == 0:
        return math.nan, math.nan
    se = float(s.std(ddof=1) / math.sqrt(len(s))) if len(s) > 1 else 0.0
    return float(s.mean()), se


def fmt_mean_se(values, digits: int = 3) -> str:
    """``"m ± se"`` with ``digits`` significant digits (just ``"m"`` for one value)."""
    m, se = mean_se(values)
    if math.isnan(m):
        return "–"
    if se == 0.0:
        return f"{m:.{digits}g}"
    return f"{m:.{digits}g} ± {se:.2g}"
