"""The configs ship inside the installed package (not only in a checkout)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_the_config_tree_and_console_scripts(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("mlrun-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for conf in (ROOT / "conf").rglob("*.yaml"):
        assert f"mlrun_conf/{conf.relative_to(ROOT / 'conf').as_posix()}" in names, conf
    assert "runner/cli.py" in names and "experiments/__init__.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "mlrun = runner.cli:main" in text and "mlrun-report = runner.report:main" in text
