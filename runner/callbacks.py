"""Hydra callbacks: a status table at the end of every sweep (and the sweep's exit status)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

FAILED_JOBS: list[str] = []


def sweep_status(sweep_dir: Path, since: float = 0.0) -> list[dict[str, Any]]:
    """Status of each job folder under ``sweep_dir`` whose run.json changed after ``since``."""
    rows = []
    for path in sorted(Path(sweep_dir).glob("**/run.json")):
        if path.stat().st_mtime < since and not (path.parent / "done").exists():
            continue
        try:
            info = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            info = {"status": "unreadable"}
        rows.append({"job": str(path.parent.relative_to(sweep_dir)), "status": info.get("status"),
                     "wall_s": info.get("wall_time_s"), "error": info.get("error") or ""})
    return rows


class SweepSummary(Callback):
    """Prints a per-job status table when a sweep ends and remembers the failed jobs."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._t0 = time.time() - 1.0

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from rich.console import Console
        from rich.table import Table

        sweep_dir = Path(config.hydra.sweep.dir)
        rows = sweep_status(sweep_dir, getattr(self, "_t0", 0.0))
        table = Table(title=f"sweep {sweep_dir}")
        for col in ("job", "status", "wall_s", "error"):
            table.add_column(col, overflow="fold")
        for r in rows:
            style = {"completed": "green", "failed": "red"}.get(r["status"], "yellow")
            wall = f"{r['wall_s']:.2f}" if isinstance(r["wall_s"], (int, float)) else "–"
            table.add_row(r["job"], f"[{style}]{r['status']}[/]", wall, r["error"][:120])
        Console(stderr=True).print(table)
        FAILED_JOBS.extend(r["job"] for r in rows if r["status"] != "completed")
