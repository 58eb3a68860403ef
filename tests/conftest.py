"""Shared fixtures: run the installed console scripts in a temporary working directory."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


class Cli:
    """Runs ``mlrun`` / ``mlrun-report`` with outputs under a temporary folder."""

    def __init__(self, root: Path):
        self.root = root
        self.outputs = root / "outputs"
        self.env = {**os.environ, "MLRUN_OUTPUTS": str(self.outputs), "MPLBACKEND": "Agg",
                    "HYDRA_FULL_ERROR": "0"}

    def __call__(self, *args: str, script: str = "mlrun", timeout: float = 600,
                 **popen) -> subprocess.CompletedProcess:
        exe = shutil.which(script)
        assert exe, f"console script {script} not installed (pip install -e .)"
        return subprocess.run([exe, *args], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout, **popen)

    def run_dirs(self, pattern: str = "**/run.json") -> list[Path]:
        return sorted(p.parent for p in self.outputs.glob(pattern))

    @staticmethod
    def info(run_dir: Path) -> dict:
        return json.loads((run_dir / "run.json").read_text())


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)
