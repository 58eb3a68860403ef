"""End-to-end runs of every xnet Method adapter at tiny sizes, called directly (no CLI)."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from methods.xnet.method import FunctionFit, GymEnv, KanLeastSquares, PinnSolver, PPOAgent
from methods.xnet.pde import PinnProblem
from methods.xnet.targets import FunctionTarget
from runner.api import RunContext, UserError, check_task, merge_result

torch.set_num_threads(1)


def _run(method, dataset, tmp_path, seed=0):
    method.name, dataset.name = "m", "d"
    ctx = RunContext(tmp_path, seed=seed, scale="smoke", show_progress=False)
    return merge_result(ctx, method.run(dataset, ctx))


def _science(metrics):
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}


@pytest.mark.parametrize("arch,hidden", [("xnet", [16]), ("mlp", [16, 16]), ("kan", [])])
def test_function_fit_runs_and_learns(tmp_path, arch, hidden):
    ds = FunctionTarget("heaviside", n_test=500, band=2e-3)
    kw = {"grid": 20, "grid_updates": 2} if arch == "kan" else {}
    res = _run(FunctionFit(steps=150, lr=[0.01, 0.001], arch=arch, hidden=hidden, **kw), ds, tmp_path)
    m = res.metrics
    assert {"train_mse", "test_mse", "test_mse_band", "n_params", "best_lr", "time/per_step"} <= set(m)
    assert m["train_mse"] < 0.25 and m["best_lr"] in (0.01, 0.001)   # better than the constant ½
    assert {"history", "fit"} <= set(res.tables) and "fit" in res.figures


def test_function_fit_is_deterministic(tmp_path):
    ds = FunctionTarget("f1", n_train=200, n_test=100, train_grid=False)
    a = _run(FunctionFit(steps=30, hidden=[8], figures=False), ds, tmp_path / "a", seed=3)
    b = _run(FunctionFit(steps=30, hidden=[8], figures=False), ds, tmp_path / "b", seed=3)
    c = _run(FunctionFit(steps=30, hidden=[8], figures=False), ds, tmp_path / "c", seed=4)
    assert _science(a.metrics) == _science(b.metrics) != _science(c.metrics)
    assert "fit" not in a.tables                                          # 2-D target: no 1-D fit table


def test_kan_least_squares_method(tmp_path):
    res = _run(KanLeastSquares(grid=200, k=3), FunctionTarget("heaviside", n_test=1000), tmp_path)
    assert abs(res.metrics["train_mse"] / 5.98e-4 - 1) < 0.02
    with pytest.raises(UserError):
        _run(KanLeastSquares(), FunctionTarget("f1", train_grid=False), tmp_path)


@pytest.mark.parametrize("arch,hidden,pde", [("xnet", [10], "poisson"), ("mlp", [8, 8], "heat"), ("kan", [3], "heat")])
def test_pinn_solver_runs(tmp_path, arch, hidden, pde):
    kw = {"activation": "tanh"} if arch == "mlp" else {"grid_updates": 2} if arch == "kan" else {}
    res = _run(PinnSolver(adam_steps=15, lbfgs_steps=3, arch=arch, hidden=hidden, **kw),
               PinnProblem(pde, n_collocation=7, n_test=11), tmp_path)
    m = res.metrics
    assert np.isfinite(m["test_mse"]) and m["final_loss"] >= 0 and m["n_params"] > 0
    assert len(res.tables["solution"]) == 51 * 51 and "solution" in res.figures


def test_ppo_runs_on_cartpole(tmp_path):
    res = _run(PPOAgent(total_steps=256, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1,
                        arch="kan", hidden=[4], grid_updates=1), GymEnv("CartPole-v1"), tmp_path)
    m = res.metrics
    assert m["env_steps"] == 256 and m["episodes"] >= 1 and m["final_return"] > 0
    assert "episodes" in res.tables and "learning_curve" in res.figures


def test_ppo_is_deterministic(tmp_path):
    def go(d):
        return _run(PPOAgent(total_steps=128, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1,
                             arch="xnet", hidden=[8], figures=False), GymEnv(), d).metrics
    assert _science(go(tmp_path / "a")) == _science(go(tmp_path / "b"))


def test_missing_gymnasium_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(UserError, match=r"\[rl\]"):
        GymEnv().make(1)


def test_bad_values_and_wrong_task():
    with pytest.raises(UserError):
        FunctionFit(steps=0)
    with pytest.raises(UserError):
        FunctionFit(lr=[0.01, -1.0])
    with pytest.raises(UserError):
        PPOAgent(num_minibatches=3)
    with pytest.raises(UserError):
        PinnProblem("wave")
    with pytest.raises(UserError, match="not a gymnasium"):
        GymEnv("NoSuchEnv-v9").make(1)
    fit, pinn = FunctionFit(), PinnProblem()
    fit.name, pinn.name = "xnet", "xnet_poisson"
    with pytest.raises(UserError, match="task"):
        check_task(fit, pinn)
