"""The contracts between the engine and the paper packages.

A *Method* and a *Dataset* are plain objects built by ``hydra.utils.instantiate`` from
``cfg.method`` and ``cfg.dataset``.  Both declare a ``task``; the engine refuses to run a method
on a dataset of another task before any work is done.  ``Method.run(dataset, ctx)`` returns a
:class:`Result`.  The engine never imports a paper package by name: it only sees these contracts.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

log = logging.getLogger("mlrun")


class UserError(Exception):
    """An error the user caused (bad value, missing file, wrong dataset).

    The CLI prints ``str(err)`` as one line and exits non-zero, with no traceback.
    """


def check(condition: bool, message: str) -> None:
    """Raise :class:`UserError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message)


def check_finite(name: str, array: Any) -> None:
    """Raise :class:`UserError` if ``array`` holds a NaN or an infinity."""
    a = np.asarray(array)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        raise UserError(f"{name} contains NaN or infinite values ({int((~np.isfinite(a)).sum())} entries)")


class Dataset:
    """A data source, target density, operator, environment ... for one ``task``.

    Subclasses set ``task`` and ``name``, load lazily (nothing heavy in ``__init__``), and fill
    ``provenance``: ``"embedded"`` (shipped with a package), ``"generated"`` (seeded generator,
    synthetic — say so), or ``"file:<path>"``.
    """

    task: str = ""
    name: str = ""
    provenance: str = "generated"

    def describe(self) -> dict[str, Any]:
        """Facts recorded in ``run.json`` (size, provenance, ...). Override to add more."""
        return {"name": self.name, "task": self.task, "provenance": self.provenance}


class Method:
    """An algorithm (proposed method or baseline) that solves one ``task``.

    The mathematics lives in plain functions; ``run`` is a thin adapter that calls them, logs
    metrics through ``ctx`` and returns a :class:`Result`.
    """

    task: str = ""
    name: str = ""

    def run(self, dataset: Dataset, ctx: "RunContext") -> "Result":  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Result:
    """What a run produced: scalar metrics, tables (pandas) and figures (matplotlib)."""

    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


def check_task(method: Method, dataset: Dataset, compatible: Iterable[str] = (),
               task_configurable: bool = False) -> None:
    """Fail with one line when ``method`` and ``dataset`` solve different tasks.

    ``task_configurable``: the dataset's config has a ``task`` key (a CSV file, say), so the line
    also says how to declare the data as the method's task.
    """
    if method.task != dataset.task:
        names = ", ".join(sorted(compatible)) or "none found"
        hint = f"; or, if this data fits that task, set dataset.task={method.task}" if task_configurable else ""
        raise UserError(
            f"method '{method.name}' solves task '{method.task}' but dataset '{dataset.name}' is a "
            f"'{dataset.task}' dataset; compatible datasets: {names}{hint}"
        )


class RunContext:
    """Everything a method needs from the engine for one run.

    ``run_dir`` is the run folder; ``seed`` the run's seed; ``rng`` a ``numpy.random.Generator``
    seeded from it; ``torch_generator()`` a seeded ``torch.Generator`` (torch imported lazily);
    ``scale`` the scale name (smoke/default/paper); ``device`` and ``threads`` from the config.
    """

    def __init__(self, run_dir: str | Path, seed: int, scale: str = "default", device: str = "cpu",
                 threads: int = 0, show_progress: bool = True):
        self.run_dir = Path(run_dir)
        self.seed = int(seed)
        self.scale = scale
        self.device = device
        self.threads = threads
        self.show_progress = show_progress
        self.rng = np.random.default_rng(self.seed)
        self.log = log
        self.metrics: dict[str, float] = {}
        self.tables: dict[str, Any] = {}
        self.figures: dict[str, Any] = {}

    # -- seeds -------------------------------------------------------------------------------
    def sub_seed(self, *keys: int | str) -> int:
        """A deterministic seed derived from the run seed and ``keys`` (stable across runs)."""
        words = [self.seed] + [k if isinstance(k, int) else _stable_hash(k) for k in keys]
        return int(np.random.SeedSequence(words).generate_state(1)[0])

    def sub_rng(self, *keys: int | str) -> np.random.Generator:
        """A numpy Generator seeded by :meth:`sub_seed`."""
        return np.random.default_rng(self.sub_seed(*keys))

    def torch_generator(self, *keys: int | str):
        """A ``torch.Generator`` seeded from the run seed (and optional keys)."""
        import torch

        g = torch.Generator()
        g.manual_seed(self.sub_seed(*keys) if keys else self.seed)
        return g

    # -- outputs -------------------------------------------------------------------------------
    def log_metric(self, key: str, value: float) -> None:
        """Record a scalar metric (merged into ``metrics.json``)."""
        self.metrics[key] = float(value)

    def save_table(self, name: str, df) -> None:
        """Record a pandas table, written as ``tables/<name>.csv`` and ``.md``."""
        self.tables[name] = df

    def save_figure(self, name: str, fig) -> None:
        """Record a matplotlib figure, written as ``figures/<name>.png``."""
        self.figures[name] = fig

    def progress(self, iterable: Iterable, total: int | None = None, desc: str = "") -> Iterator:
        """Iterate with a rich progress bar on a terminal (quiet in tests and sweeps)."""
        if not self.show_progress:
            yield from iterable
            return
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(desc or "working", total=total)
            for item in iterable:
                yield item
                bar.advance(task)


def _stable_hash(text: str) -> int:
    """A process-independent 32-bit hash of ``text`` (Python's ``hash`` is salted)."""
    import zlib

    return zlib.crc32(text.encode())


def merge_result(ctx: RunContext, result: Result | None) -> Result:
    """Combine what was logged through ``ctx`` with what ``run`` returned."""
    result = result or Result()
    metrics = {**ctx.metrics, **{k: float(v) for k, v in result.metrics.items()}}
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        log.warning("non-finite metrics: %s", ", ".join(bad))
    return Result(metrics=metrics, tables={**ctx.tables, **result.tables},
                  figures={**ctx.figures, **result.figures})

