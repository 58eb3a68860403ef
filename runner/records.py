"""The run folder: atomic writes of run.json, metrics.json, tables, figures and the done marker.

Layout of one run folder::

    .hydra/config.yaml   resolved config          metrics.json   flat scalar metrics    timings.json   ``time/...`` measurements
    run.json             status, error, timings, peak memory, seed, git commit, versions
    tables/<name>.csv|md                          figures/<name>.png
    run.log              the run's log            done           written last, on success
"""
from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("mlrun", "numpy", "scipy", "pandas", "scikit-learn", "torch", "hydra-core", "omegaconf",
            "matplotlib", "cvxpy", "gymnasium")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, json.dumps(_json_safe(obj), indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def git_commit() -> str | None:
    """The commit of the checkout this code runs from, if it is one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def blas_info() -> list[dict]:
    """The BLAS/OpenMP libraries loaded in this process and their thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture", "filepath")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class RunRecord:
    """Keeps ``run.json`` of one run folder current from start to end."""

    def __init__(self, run_dir: Path, seed: int, extra: dict | None = None):
        self.run_dir = Path(run_dir)
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()
        self.info: dict[str, Any] = {
            "status": "running",
            "error": None,
            "traceback": None,
            "start": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "stop": None,
            "wall_time_s": None,
            "cpu_time_s": None,
            "peak_memory_mb": None,
            "seed": seed,
            "host": platform.node(),
            "pid": os.getpid(),
            "git_commit": git_commit(),
            "versions": versions(),
            **(extra or {}),
        }
        (self.run_dir / "done").unlink(missing_ok=True)
        self.save()

    def save(self) -> None:
        write_json(self.run_dir / "run.json", self.info)

    def update(self, **fields: Any) -> None:
        self.info.update(fields)
        self.save()

    def finish(self, status: str, error: str | None = None, traceback: str | None = None) -> None:
        """Record the end of the run; ``done`` is written only for ``completed``."""
        self.info.update(
            status=status, error=error, traceback=traceback,
            stop=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            wall_time_s=round(time.perf_counter() - self._t0, 4),
            cpu_time_s=round(time.process_time() - self._c0, 4),
            peak_memory_mb=round(peak_memory_mb(), 1),
            blas=blas_info(),
        )
        self.save()
        if status == "completed":
            atomic_write(self.run_dir / "done", self.info["stop"] + "\n")


TIMING_PREFIX = "time/"


def split_timings(metrics: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Split ``time/...`` keys (wall-clock measurements) from the deterministic metrics."""
    timings = {k: v for k, v in metrics.items() if k.startswith(TIMING_PREFIX)}
    return {k: v for k, v in metrics.items() if k not in timings}, timings


def save_outputs(run_dir: Path, metrics: dict[str, float], tables: dict, figures: dict) -> None:
    """Write ``metrics.json``, ``timings.json``, ``tables/<name>.csv|md`` and ``figures/<name>.png``.

    Metrics named ``time/<what>`` are timings: they go to ``timings.json`` so that ``metrics.json``
    is identical for the same config and seed.
    """
    run_dir = Path(run_dir)
    metrics, timings = split_timings(metrics)
    for name, df in tables.items():
        atomic_write(run_dir / "tables" / f"{name}.csv", df.to_csv(index=False))
        atomic_write(run_dir / "tables" / f"{name}.md", markdown_table(df) + "\n")
    for name, fig in figures.items():
        path = run_dir / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
        _close(fig)
    write_json(run_dir / "timings.json", timings)
    write_json(run_dir / "metrics.json", metrics)


def markdown_table(df, floatfmt: str = ".4g") -> str:
    """A pipe table of ``df`` (needs ``tabulate``; falls back to a plain rendering)."""
    try:
        return df.to_markdown(index=False, floatfmt=floatfmt)
    except ImportError:
        return df.to_string(index=False)


def _close(fig) -> None:
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # a Figure not managed by pyplot needs no closing
        pass
