"""The rif paper module: its experiments exist as configs; a report with missing runs degrades to
"not run" claims instead of failing."""
from pathlib import Path

import pandas as pd

import experiments.rif as paper
from runner.paper import ReportWriter, RunSet

CONF = Path(__file__).resolve().parents[2] / "conf" / "experiment" / "rif"


def test_every_experiment_has_a_config():
    for exp in paper.EXPERIMENTS:
        text = (CONF / f"{exp}.yaml").read_text()
        assert f"sweep_name: rif/{exp}" in text


def test_report_without_runs_marks_claims_not_run(tmp_path):
    empty = RunSet(pd.DataFrame(columns=["run_dir", "status", "experiment", "method", "dataset", "seed"]))
    claims = paper.report(empty, ReportWriter(tmp_path))
    assert claims and all(c.passed is False and c.measured == "not run" for c in claims)
    assert len({c.claim_id for c in claims}) == len(claims)
