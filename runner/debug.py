"""A tiny method for exercising the engine (launchers, failures, interrupts) on any tabular set.

``mlrun method=debug`` summarises the dataset (n, d, mean label) and draws one seeded number.
``method.fail_on_seed=K`` raises a RuntimeError when the run's seed is K; ``method.sleep=S``
sleeps S seconds first (to interrupt a run by hand or in a test).
"""
from __future__ import annotations

import time

from runner.api import Method, Result, RunContext, check


class DebugMethod(Method):
    task = "binary_classification"

    def __init__(self, fail_on_seed: int | None = None, sleep: float = 0.0):
        check(sleep >= 0, f"method.sleep must be >= 0, got {sleep}")
        self.fail_on_seed = fail_on_seed
        self.sleep = float(sleep)

    def run(self, dataset, ctx: RunContext) -> Result:
        if self.sleep:
            time.sleep(self.sleep)
        if self.fail_on_seed is not None and ctx.seed == self.fail_on_seed:
            raise RuntimeError(f"debug failure on seed {ctx.seed}")
        X, y = dataset.X, dataset.y
        return Result(metrics={"n": X.shape[0], "d": X.shape[1], "mean_y": float(y.mean()),
                               "draw": float(ctx.rng.standard_normal())})
