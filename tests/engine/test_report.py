"""The report code: golden files on committed run folders, mean ± s.e., paper reports."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest

from runner import report
from runner.paper import Claim, ReportWriter, RunSet, fmt_mean_se, mean_se

GOLDEN = Path(__file__).parent / "golden"
RUNS = GOLDEN / "runs" / "demo"


def test_mean_and_standard_error():
    m, se = mean_se([1.0, 2.0, 3.0])
    assert m == 2.0 and se == pytest.approx(1 / math.sqrt(3))
    assert mean_se([4.0]) == (4.0, 0.0)
    assert fmt_mean_se([1.0, 2.0, 3.0]) == "2 ± 0.58"


def test_collect_runs_reads_status_overrides_and_metrics():
    frame = report.collect_runs([RUNS])
    assert len(frame) == 7
    assert (frame["status"] == "failed").sum() == 1
    assert report.metric_columns(frame) == ["x", "est/slope"]
    assert set(frame["experiment"]) == {"demo"}


def test_summary_matches_golden_files(tmp_path):
    path, claims = report.report_runs([RUNS], tmp_path)
    for name in ("summary.md", "scorecard.csv", "summary_numeric.csv"):
        expected = (GOLDEN / "expected" / name).read_text()
        assert (tmp_path / name).read_text() == expected, name
    numeric = pd.read_csv(tmp_path / "summary_numeric.csv").set_index("method")
    assert numeric.loc["a", "x"] == 2.0 and numeric.loc["a", "x se"] == pytest.approx(0.57735, 1e-4)
    assert numeric.loc["b", "x se"] == 0.0
    assert claims[0].passed is False  # one run failed
    text = path.read_text()
    assert "Runs that did not complete" in text and "boom" in text


class _Paper:
    TITLE = "Toy paper"
    EXPERIMENTS = ["demo"]

    @staticmethod
    def report(runs: RunSet, out: ReportWriter):
        df = runs.experiment("demo")
        out.table("means", df.groupby("method")["x"].mean().reset_index(), "Mean x")
        out.text("Some prose.")
        best = float(df["x"].max())
        return [Claim("T1", "x reaches 4", "demo", best, ">= 4", best >= 4),
                Claim("T2", "x exceeds 10", "demo", best, "> 10", best > 10)]


def test_paper_report_writes_scorecard_and_report(tmp_path, monkeypatch):
    root = tmp_path / "outputs"
    (root / "sweeps" / "toy").mkdir(parents=True)
    os.symlink(RUNS, root / "sweeps" / "toy" / "demo")
    monkeypatch.setenv("MLRUN_OUTPUTS", str(root))
    monkeypatch.setattr(report, "paper_module", lambda slug: _Paper)
    path, claims = report.report_paper("toy", "default")
    card = pd.read_csv(root / "reports" / "toy" / "scorecard.csv")
    assert card["passed"].tolist() == [True, False]
    text = path.read_text()
    assert "# Toy paper" in text and "1 of 2 claims hold" in text and "Some prose." in text
    assert (root / "reports" / "toy" / "means.csv").exists()


def test_unknown_paper_is_a_one_line_error():
    with pytest.raises(SystemExit, match="no paper 'nope'"):
        report.paper_module("nope")
