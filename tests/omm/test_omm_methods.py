"""End-to-end runs of the omm Method adapters on tiny datasets, estimator unbiasedness, user errors."""
import numpy as np
import pytest
import torch

from runner.api import Dataset, RunContext, UserError
from methods.omm.datasets import DigitsGraph, GridWorld, KernelOperator, PSDMatrix
from methods.omm.method import ExactEigensolver, LinalgOMM, NeuralOMM
from methods.omm.objectives import OBJECTIVES, objective
from methods.omm.training import network_factors

torch.set_num_threads(1)


def _named(obj, name):
    obj.name = name
    return obj


def _run(method, dataset, tmp_path, seed=0):
    ctx = RunContext(tmp_path, seed=seed, scale="smoke", show_progress=False)
    method.run(dataset, ctx)
    return ctx


def test_linalg_full_and_stream_runs(tmp_path):
    ds = _named(PSDMatrix(d=30, k=3), "omm_psd_gapped")
    ctx = _run(_named(LinalgOMM("omm_seq", steps=1500, step=0.3), "omm_linalg"), ds, tmp_path)
    assert ctx.metrics["subspace_dist"] < 1e-6 and ctx.metrics["min_cos"] > 0.999
    assert ctx.metrics["diverged"] == 0 and "trace" in ctx.tables and "modes" in ctx.tables
    ctx = _run(_named(LinalgOMM("sanger", mode="stream", steps=200, lr=1e-2), "omm_linalg"), ds, tmp_path)
    assert ctx.metrics["subspace_dist"] < 0.2


def test_linalg_same_seed_same_metrics(tmp_path):
    ds = _named(PSDMatrix(d=20, k=2), "omm_psd_gapped")
    m = _named(LinalgOMM("omm", mode="stream", steps=50), "omm_linalg")
    a = {k: v for k, v in _run(m, ds, tmp_path).metrics.items() if not k.startswith("time/")}
    b = {k: v for k, v in _run(m, ds, tmp_path).metrics.items() if not k.startswith("time/")}
    assert a == b


def test_linalg_inverse_dataset_runs(tmp_path):
    ds = _named(PSDMatrix(d=12, k=2, spectrum="inverse"), "omm_psd_inverse")
    ctx = _run(_named(LinalgOMM("omm_seq", steps=1500, step=0.3), "omm_linalg"), ds, tmp_path)
    assert ctx.metrics["min_cos"] > 0.99


@pytest.mark.parametrize("method", ["omm_seq", "lora_seq", "omm2"])
def test_neural_on_grid_full_and_sampled(tmp_path, method):
    ds = _named(GridWorld("maze", k=3), "omm_maze")
    ctx = _run(_named(NeuralOMM(method, hidden=32, depth=2, steps=150, estimator="full"), method), ds, tmp_path)
    assert np.isfinite(ctx.metrics["mean_cos"]) and set(ctx.tables) == {"trace", "modes", "eigfun"}
    ctx = _run(_named(NeuralOMM(method, hidden=32, depth=2, steps=20, batch=64), method), ds, tmp_path)
    assert np.isfinite(ctx.metrics["subspace_dist"])


def test_neural_on_kernel_and_digits(tmp_path):
    ds = _named(KernelOperator(dim=1, k=3, n_eval=500), "omm_rbf1d")
    ctx = _run(_named(NeuralOMM("omm_jnt", hidden=16, depth=1, activation="tanh", steps=30, batch=32), "omm_jnt"),
               ds, tmp_path)
    assert "eig_rel_err_3" in ctx.metrics and "eigfun" in ctx.tables
    g = _named(DigitsGraph(k=4), "omm_digits_graph")
    ctx = _run(_named(NeuralOMM("omm", hidden=16, depth=1, steps=5, batch=32), "omm"), g, tmp_path)
    assert 0 <= ctx.metrics["probe_acc"] <= 1 and ctx.metrics["probe_acc_exact"] > 0.5


def test_exact_eigensolver(tmp_path):
    ctx = _run(_named(ExactEigensolver(), "omm_eigh"), _named(GridWorld("maze", k=4), "omm_maze"), tmp_path)
    assert ctx.metrics["subspace_dist"] == pytest.approx(0.0, abs=1e-10)
    ctx = _run(_named(ExactEigensolver(n_nystrom=800), "omm_eigh"),
               _named(KernelOperator(dim=1, k=3, n_eval=800), "omm_rbf1d"), tmp_path)
    assert ctx.metrics["min_cos"] > 0.98 and ctx.metrics["eig_rel_err_1"] < 0.05


def test_user_errors(tmp_path):
    kernel = _named(KernelOperator(dim=1, k=2, n_eval=200), "omm_rbf1d")
    with pytest.raises(UserError, match="explicit matrix"):
        _run(_named(LinalgOMM(), "omm_linalg"), kernel, tmp_path)
    with pytest.raises(UserError, match="network inputs"):
        _run(_named(NeuralOMM(), "omm"), _named(PSDMatrix(d=20, k=2), "omm_psd_gapped"), tmp_path)
    with pytest.raises(UserError, match="continuous operator"):
        _run(_named(NeuralOMM(estimator="full", steps=1), "omm"), kernel, tmp_path)
    with pytest.raises(UserError, match="needs a PSD matrix"):
        _run(_named(LinalgOMM(mode="stream"), "omm_linalg"), _named(PSDMatrix(d=20, k=2, spectrum="negative"),
                                                                    "omm_psd_negative"), tmp_path)
    other = _named(Dataset(), "digits")
    other.task = "binary_classification"
    with pytest.raises(UserError, match="compatible datasets"):
        _run(_named(LinalgOMM(), "omm_linalg"), other, tmp_path)
    for bad in (lambda: LinalgOMM(objective="nope"), lambda: NeuralOMM(estimator="x"),
                lambda: PSDMatrix(spectrum="x"), lambda: GridWorld(layout="x"), lambda: KernelOperator(dim=3),
                lambda: LinalgOMM(steps=0), lambda: PSDMatrix(d=5, k=5)):
        with pytest.raises(UserError):
            bad()


def test_minibatch_estimators_are_unbiased():
    """Averaged over batches, the estimated moments match the exact ones for fixed functions f,
    and metric and operator terms use disjoint (independent) samples."""
    ds = GridWorld("maze", k=3)
    rng = np.random.default_rng(0)
    W = torch.from_numpy(rng.standard_normal((2, 3)))
    f = lambda x: torch.tanh(torch.from_numpy(np.asarray(x, np.float64)) @ W)   # noqa: E731
    F_all = f(ds.inputs).numpy()
    ev = ds.evaluation()
    M_exact, A_exact = ev.moments(F_all)
    Ms, As = [], []
    for _ in range(400):
        b = ds.sample_batch(rng, 256)
        metric, L, R = network_factors(f(b.x), b)
        Ms.append(sum(m.T @ m for m in metric).numpy() / len(metric))
        As.append((L.T @ R).numpy())
    np.testing.assert_allclose(np.mean(Ms, 0), M_exact, atol=0.02)
    np.testing.assert_allclose(np.mean(As, 0), A_exact, atol=0.03)
    kb = KernelOperator(dim=1, k=2).sample_batch(rng, 64)
    assert not set(kb.metric[0]) & set(kb.left) and not set(kb.metric[1]) & set(kb.left)
    assert np.all(np.diagonal(kb.w) == 0)                                  # U-statistic: no i = j terms


def test_every_objective_is_finite_on_a_batch():
    ds = GridWorld("maze", k=3)
    b = ds.sample_batch(np.random.default_rng(1), 32)
    F = torch.randn(len(b.x), 3, dtype=torch.float64, requires_grad=True)
    for kind in OBJECTIVES:
        loss = objective(kind, *network_factors(F, b))
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(F.grad).all()
        F.grad = None


def test_report_without_runs_fails_every_claim(tmp_path):
    import pandas as pd

    from experiments.omm import EXPERIMENTS, report
    from runner.paper import ReportWriter, RunSet

    frame = pd.DataFrame(columns=["run_dir", "status", "experiment", "method", "dataset", "seed"])
    claims = report(RunSet(frame), ReportWriter(tmp_path))
    assert len(claims) >= 20 and not any(c.passed for c in claims)
    assert len({c.claim_id for c in claims}) == len(claims)
    assert {c.experiment for c in claims} <= set(EXPERIMENTS)
