"""Every paper's `make reproduce-<slug> SCALE=smoke`: all experiments run, the report is written.

At smoke sizes a paper's claims need not hold; what must hold is that every experiment runs to
completion and the report has one scorecard row per claim with a measured value.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

PAPERS = sorted(p.stem.replace("_", "-") for p in (Path(__file__).parent.parent / "experiments")
                .glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("slug", PAPERS)
def test_smoke_reproduction(cli, slug):
    proc = cli(slug, "--reproduce", "--scale", "smoke", script="mlrun-report", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = cli.outputs / "reports" / slug
    card = pd.read_csv(out / "scorecard.csv")
    assert len(card) > 0 and card["measured"].notna().all()
    assert (out / "REPORT.md").exists()
    assert "Runs per experiment" in (out / "REPORT.md").read_text()
