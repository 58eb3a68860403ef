"""Every Method.run end to end on smoke-size targets, through the runner.api contracts."""
from __future__ import annotations

import numpy as np
import pytest

from methods.mixture_vi.datasets import (BimodalDataset, FunnelDataset, GaussianDataset, LogisticDataset,
                                         MixtureDataset, SinhArcsinhDataset)
from methods.mixture_vi.method import ADVI, HMC, FlowVI, MixtureVI
from runner.api import Dataset, RunContext, UserError


def _run(method, dataset, tmp_path, seed=0):
    method.name, dataset.name = "m", "d"
    ctx = RunContext(tmp_path, seed=seed, scale="smoke", show_progress=False)
    result = method.run(dataset, ctx)
    return {**ctx.metrics, **result.metrics}, ctx


@pytest.mark.parametrize("algo", ["ibw", "md", "gd", "ngd", "ibw_s", "md_s", "bw"])
def test_mixture_methods_run_and_decrease_the_kl(algo, tmp_path):
    metrics, ctx = _run(MixtureVI(algo, n_components=5, n_iter=60, n_evals=3, figures=algo == "ibw"),
                        MixtureDataset(), tmp_path)
    assert metrics["kl"] < metrics["kl_init"] and np.isfinite(metrics["kl"])
    assert metrics["n_params"] == (5 * (2 * 2 + 2) if algo == "bw" else 5 * 3)
    assert "time/per_iter" in metrics and {"trace", "params"} <= set(ctx.tables)
    if algo == "ibw":
        assert "density" in ctx.figures


def test_same_seed_gives_identical_metrics(tmp_path):
    a, _ = _run(MixtureVI("md", n_components=3, n_iter=30, figures=False), MixtureDataset(), tmp_path)
    b, _ = _run(MixtureVI("md", n_components=3, n_iter=30, figures=False), MixtureDataset(), tmp_path)
    drop = lambda m: {k: v for k, v in m.items() if not k.startswith("time/")}   # noqa: E731
    assert drop(a) == drop(b)


def test_exact_gradient_mode_reaches_the_closed_form(tmp_path):
    metrics, _ = _run(MixtureVI("ibw", n_components=1, n_iter=1500, exact_grad=True, figures=False),
                      GaussianDataset(), tmp_path)
    assert metrics["eps_rel_err"] < 1e-6 and metrics["mean_err"] < 1e-6


def test_blr_methods_report_accuracy(tmp_path):
    ds = LogisticDataset("wine")
    m, ctx = _run(MixtureVI("ibw", n_components=2, n_iter=30, n_evals=2, n_eval_samples=100), ds, tmp_path)
    assert 0 <= m["test_accuracy"] <= 1 and np.isfinite(m["test_loglik"]) and "neg_elbo" in m
    assert "test_accuracy" in ctx.tables["trace"].columns
    m, _ = _run(ADVI(n_iter=50, n_evals=2, n_eval_samples=100), LogisticDataset("breast_cancer"), tmp_path)
    assert m["neg_elbo"] < m["neg_elbo_init"]
    m, _ = _run(HMC(n_warmup=20, n_draws=10, n_leapfrog=5), LogisticDataset("breast_cancer"), tmp_path)
    assert 0 <= m["test_accuracy"] <= 1 and 0 <= m["accept_rate"] <= 1


def test_flow_and_the_other_2d_targets(tmp_path):
    pytest.importorskip("torch")
    m, ctx = _run(FlowVI(n_iter=20, n_evals=2, n_eval_samples=200), FunnelDataset(), tmp_path)
    assert m["n_params"] == 4976 and np.isfinite(m["kl"]) and "density" in ctx.figures
    m, _ = _run(MixtureVI("ibw", n_components=4, n_iter=20, figures=False), SinhArcsinhDataset(), tmp_path)
    assert np.isfinite(m["kl"])
    m, _ = _run(MixtureVI("ibw", n_components=10, n_iter=20, figures=False), BimodalDataset(), tmp_path)
    assert 0 <= m["cluster_e2"] < 0.05          # one of ten components starts at the light mode


def test_wrong_task_and_bad_values_fail_with_one_line(tmp_path):
    class Table(Dataset):
        task = "binary_classification"
        name = "table"

    with pytest.raises(UserError, match="compatible datasets"):
        _run(MixtureVI(), Table(), tmp_path)
    with pytest.raises(UserError):
        MixtureVI(algo="adam")
    with pytest.raises(UserError):
        MixtureVI(n_components=0)
    with pytest.raises(UserError):
        MixtureDataset(cov="banded")
    with pytest.raises(UserError):
        LogisticDataset("iris")
    with pytest.raises(UserError, match="exact_grad"):
        _run(MixtureVI(n_components=3, exact_grad=True), GaussianDataset(), tmp_path)
    with pytest.raises(UserError, match="lr"):
        _run(MixtureVI(lr=-1.0), MixtureDataset(), tmp_path)
