"""Benchmark hygiene: a warm-up call, then the median wall time of ``repeats`` timed calls."""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable


def median_time(fn: Callable[[], Any], repeats: int = 3,
                warmup: Callable[[], Any] | None = None) -> tuple[Any, float, list[float]]:
    """Run ``warmup()`` once untimed (if given), then ``fn()`` ``repeats`` times.

    Returns (the last call's value, the median wall time in seconds, all wall times).
    """
    if warmup is not None:
        warmup()
    times, out = [], None
    for _ in range(max(1, int(repeats))):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, float(statistics.median(times)), times
