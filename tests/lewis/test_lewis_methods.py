"""Every Method.run of the lewis package end to end on smoke-size data, and the adapters' errors."""
from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

from methods.lewis.method import (CvxpyLinf, LewisIRLS, LewisWeights, LinfInstance, LinprogLinf,
                                  QscCvxpy, QscTrustRegion)
from runner.api import RunContext, UserError, check_task
from runner.data.rdata_sets import RDataDataset
from runner.data.tabular import SklearnDataset


def ctx(tmp_path):
    return RunContext(tmp_path, seed=0, scale="smoke", show_progress=False)


def dataset(kind="gaussian", task="linf_regression", **kw):
    ds = LinfInstance(kind=kind, n=kw.pop("n", 300), d=kw.pop("d", 5), m=2, seed=0, task=task, **kw)
    ds.name = f"lewis_{kind}"
    return ds


LINF = [LewisIRLS(), LewisIRLS(update="lawson"), LewisIRLS(init="uniform"), LinprogLinf(),
        CvxpyLinf("CLARABEL"), CvxpyLinf("HIGHS")]


@pytest.mark.parametrize("method", LINF, ids=lambda m: f"{type(m).__name__}")
def test_linf_methods_run(tmp_path, method):
    method.reference, method.repeats = True, 2
    res = method.run(dataset(), ctx(tmp_path))
    m = res.metrics
    assert m["objective"] >= m["opt_ref"] * (1 - 1e-7)
    assert m["objective"] <= m["opt_ref"] * 1.05 + 1e-12
    assert m["feas_err"] <= 1e-7 and m["time_s"] > 0
    if isinstance(method, LewisIRLS):
        assert m["lb_over_opt"] <= 1 + 1e-9 and m["converged"] == 1.0
    if isinstance(method, CvxpyLinf):
        assert 0 < m["compile_s"] and 0 < m["solve_s"] and abs(m["rel_err"]) <= 1e-6


def test_irls_on_real_diabetes(tmp_path):
    ds = SklearnDataset(loader="diabetes", task="linf_regression")
    ds.name = "diabetes_linf"
    m = LewisIRLS(eps=0.01, reference=True).run(ds, ctx(tmp_path)).metrics
    assert m["ub_over_opt"] <= 1.01 and m["lb_over_opt"] <= 1 + 1e-9 and m["n"] == 442


R_DATA = Path(__file__).resolve().parents[2] / "data" / "deb"


@pytest.mark.skipif(not (R_DATA / "usr/lib/R/site-library/mlbench/data/BostonHousing.rda").exists(),
                    reason="mlbench .deb not unpacked into data/deb (make data)")
def test_irls_on_real_boston_housing(tmp_path):
    ds = RDataDataset("mlbench", "BostonHousing", "medv", root=str(R_DATA), task="linf_regression")
    ds.name = "boston_linf"
    m = LewisIRLS(eps=0.01, reference=True).run(ds, ctx(tmp_path)).metrics
    assert m["n"] == 506 and m["d"] == 13
    assert m["ub_over_opt"] <= 1.01 and m["lb_over_opt"] <= 1 + 1e-9


def test_lewis_weights_method(tmp_path):
    c = ctx(tmp_path)
    m = LewisWeights(iters=50, checkpoints=(1, 10, 50)).run(dataset("duplicated", n=600), c).metrics
    assert abs(m["lewis_max_g"] - 1) <= 1e-9 and m["lewis_bound_holds"] == 1.0
    assert m["uniform_bound_holds"] == 1.0 and m["uniform_sum_w"] > m["lewis_sum_w"]
    assert list(c.tables["certification"]["K"]) == [1, 10, 50]


@pytest.mark.parametrize("method", [QscTrustRegion(loss="cosh", reference=True),
                                    QscTrustRegion(subsolver="cvxpy", reference=True),
                                    QscCvxpy(loss="logistic2")], ids=["tr_irls", "tr_cvxpy", "cvxpy"])
def test_qsc_methods_run(tmp_path, method):
    m = method.run(dataset(task="qsc", x_scale=1.0), ctx(tmp_path)).metrics
    assert np.isfinite(m["objective"])
    if "rel_obj_diff" in m:
        assert abs(m["rel_obj_diff"]) <= 1e-6 and m["outer_iters"] <= 50


def test_same_seed_same_instance():
    a, b = dataset(), dataset()
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.v, b.v)
    assert not np.array_equal(a.X, LinfInstance(n=300, d=5, m=2, seed=1).X)


def test_wrong_task_is_one_line(tmp_path):
    method = LewisIRLS()
    method.name = "lewis_irls"
    with pytest.raises(UserError, match="compatible datasets"):
        check_task(method, dataset(task="qsc"), ["lewis_gaussian"])


@pytest.mark.parametrize("kwargs, match", [
    ({"eps": 0.0}, "eps"), ({"update": "newton"}, "update"), ({"init": "random"}, "init"),
    ({"repeats": 0}, "repeats")])
def test_bad_values(kwargs, match):
    with pytest.raises(UserError, match=match):
        LewisIRLS(**kwargs)


def test_bad_dataset_values():
    with pytest.raises(UserError, match="overdetermined"):
        LinfInstance(n=5, d=5)
    with pytest.raises(UserError, match="kind"):
        LinfInstance(kind="sparse")


def test_dataset_without_arrays(tmp_path):
    class Empty:
        name, task = "empty", "linf_regression"
    with pytest.raises(UserError, match="no X and y"):
        LinprogLinf().run(Empty(), ctx(tmp_path))


def test_nan_in_data(tmp_path):
    ds = dataset()
    ds.arrays[1][0] = np.nan
    with pytest.raises(UserError, match="NaN"):
        LewisIRLS().run(ds, ctx(tmp_path))


def test_missing_cvxpy_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "cvxpy":
            raise ImportError("no cvxpy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(UserError, match=r"pip install -e \.\[baselines\]"):
        CvxpyLinf("CLARABEL")
    with pytest.raises(UserError, match="unknown cvxpy solver"):
        CvxpyLinf("SCS")
