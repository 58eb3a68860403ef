"""``mlrun``: compose the config, build method and dataset, run, record the run folder.

One run = one call of :func:`run_job`.  In a sweep (``-m``) each job records its own run folder;
a job that fails records ``status: failed`` with its traceback and the sweep goes on; the sweep
exits non-zero at the end.  A folder that already holds ``done`` is skipped unless ``force=true``.
"""
from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from runner.api import RunContext, UserError, check_task, merge_result
from runner.config import dataset_tasks, register_resolvers
from runner.records import RunRecord, atomic_write, read_json, save_outputs, write_json

log = logging.getLogger("mlrun")
register_resolvers()
MAX_PRINTED_METRICS = 24


def _validate(cfg: DictConfig) -> None:
    seed = cfg.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    threads = cfg.get("threads", 0)
    if not isinstance(threads, int) or threads < 0:
        raise UserError(f"threads must be a non-negative integer, got {threads!r}")


def _build(node: DictConfig, kind: str):
    """Instantiate ``cfg.method`` or ``cfg.dataset``; the YAML ``name`` key becomes ``obj.name``."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    params = OmegaConf.to_container(node, resolve=True)
    name = params.pop("name", None) or kind
    try:
        obj = instantiate(params, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, TypeError):
            raise UserError(f"{kind} '{name}': {cause}") from None
        raise
    obj.name = name
    return obj


def _set_threads(threads: int) -> None:
    """Pin BLAS (threadpoolctl) and, when loaded, torch to ``threads`` (0: library defaults)."""
    if threads <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _print_metrics(name: str, metrics: dict[str, float], run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=name, show_lines=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    shown = list(metrics.items())[:MAX_PRINTED_METRICS]
    for k, v in shown:
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    if len(metrics) > len(shown):
        table.caption = f"{len(metrics) - len(shown)} more in metrics.json / timings.json"
    console = Console()
    console.print(table)
    console.print(f"run folder: {run_dir}")


def _in_sweep() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def run_job(cfg: DictConfig) -> dict[str, float]:
    """Run one configured job and record its folder; returns its metrics (plain floats)."""
    from hydra.core.hydra_config import HydraConfig

    register_resolvers()
    os.environ.setdefault("MPLBACKEND", "Agg")
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    sweep = _in_sweep()
    if (run_dir / "done").exists() and not cfg.get("force", False):
        log.info("skipped (already done; force=true reruns): %s", run_dir)
        return read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").exists() else {}

    record = None
    try:
        OmegaConf.resolve(cfg)
        atomic_write(run_dir / ".hydra" / "config.yaml", OmegaConf.to_yaml(cfg))
        _validate(cfg)
        record = RunRecord(run_dir, seed=cfg.seed, extra={
            "method": cfg.method.get("name"), "dataset": cfg.dataset.get("name"),
            "scale": cfg.scale.name, "sweep": cfg.sweep_name if sweep else None,
            "overrides": list(HydraConfig.get().overrides.task),
        })
        _set_threads(cfg.threads)
        method = _build(cfg.method, "method")
        dataset = _build(cfg.dataset, "dataset")
        if method.task != dataset.task:
            check_task(method, dataset, dataset_tasks().get(method.task, []),
                       task_configurable="task" in cfg.dataset)
        ctx = RunContext(run_dir, seed=cfg.seed, scale=cfg.scale.name, device=cfg.device,
                         threads=cfg.threads, show_progress=cfg.show_progress and not sweep
                         and sys.stderr.isatty())
        result = merge_result(ctx, method.run(dataset, ctx))
        record.update(dataset_info=_describe(dataset))
        save_outputs(run_dir, result.metrics, result.tables, result.figures)
        record.finish("completed")
        if not sweep:
            _print_metrics(f"{method.name} on {dataset.name}", result.metrics, run_dir)
        return result.metrics
    except KeyboardInterrupt:
        if record:
            record.finish("interrupted", error="KeyboardInterrupt")
        raise
    except UserError as err:
        _record_failure(record, run_dir, str(err), None)
        if sweep:  # the sweep goes on; SweepSummary reports it and sets the exit code
            log.error("job failed: %s: %s", run_dir.name, err)
            return {}
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        tb = traceback.format_exc()
        _record_failure(record, run_dir, f"{type(err).__name__}: {err}", tb)
        if sweep:
            log.error("job failed: %s: %s: %s (traceback in %s)", run_dir.name,
                      type(err).__name__, err, run_dir / "run.json")
            return {}
        raise


def _describe(dataset) -> dict | None:
    """The dataset's own description for ``run.json`` (after the run, so it is loaded)."""
    try:
        return dataset.describe()
    except Exception as err:  # a description must never fail a finished run
        return {"error": f"describe() failed: {err}"}


def _record_failure(record: RunRecord | None, run_dir: Path, error: str, tb: str | None) -> None:
    if record is not None:
        record.finish("failed", error=error, traceback=tb)
    else:  # failed before the record existed (bad config value)
        write_json(run_dir / "run.json", {"status": "failed", "error": error, "traceback": tb})


@hydra.main(version_base="1.3", config_path="pkg://mlrun_conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> dict[str, float]:
    return run_job(cfg)


def main() -> None:
    """Console entry point ``mlrun``; a sweep with a failed job exits with status 1."""
    from runner import callbacks

    _hydra_main()
    if callbacks.FAILED_JOBS:
        sys.exit(1)


if __name__ == "__main__":
    main()
