"""The attribution Method adapters end to end (direct calls with a RunContext), and the core claim."""
import numpy as np
import pytest

from methods.attribution.method import InfluenceRemoval, SyntheticLogistic
from runner.api import RunContext, UserError
from runner.data.tabular import SklearnDataset


def dataset(loader, **kw):
    ds = SklearnDataset(loader, **kw)
    ds.name = loader
    return ds


def run(method, ds, tmp_path, seed=0):
    return method.run(ds, RunContext(tmp_path, seed=seed, scale="smoke", show_progress=False))


@pytest.mark.parametrize("estimator", ["if", "rif", "ns"])
def test_method_runs_end_to_end(estimator, tmp_path):
    m = InfluenceRemoval(estimator=estimator, n_sizes=3, strategy="all")
    m.name = estimator
    res = run(m, dataset("digits", classes=[3, 8]), tmp_path)
    mt = res.metrics
    assert mt["d"] == 55 and mt["n_train"] == 110           # 54 non-constant pixels + bias; 2d
    for e in ("if", "rif", "ns"):
        for stat in ("slope", "pearson"):
            assert np.isfinite(mt[f"{e}/{stat}"])
            for metric in ("test_prediction", "test_loss", "self_loss"):
                assert f"{e}/{stat}/{metric}" in mt
    assert mt["slope"] == mt[f"{estimator}/slope"]
    assert 0 < mt["mean_leverage"] < 1 and mt["n_clipped"] == 0 and mt["refit_max_grad"] <= 1e-10
    eff = res.tables["effects"]
    assert set(eff["strategy"]) == {"random", "cluster_feature", "cluster_l2", "high_loss", "top_test_loss_pos",
                                    "top_test_loss_neg", "top_test_pred_pos", "top_test_pred_neg"}
    assert {"actual", "if", "rif", "ns"} <= set(eff.columns)
    assert "predicted_vs_actual" in res.figures


def test_same_seed_same_numbers(tmp_path):
    m = InfluenceRemoval(n_sizes=3)
    a = run(m, dataset("breast_cancer"), tmp_path / "a", seed=3).metrics
    b = run(m, dataset("breast_cancer"), tmp_path / "b", seed=3).metrics
    c = run(m, dataset("breast_cancer"), tmp_path / "c", seed=4).metrics
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith("time/")}  # noqa: E731
    assert strip(a) == strip(b) and strip(a) != strip(c)


def test_rif_slope_closer_to_one_than_if_on_breast_cancer(tmp_path):
    """The paper's core claim, measured: n_train = 2d, random removals, λ = 1e-3."""
    m = InfluenceRemoval(estimator="rif", n_train_factor=2.0, strategy="random", n_sizes=12, repeats=4)
    mt = run(m, dataset("breast_cancer"), tmp_path).metrics
    assert mt["n_train"] == 62 and mt["d"] == 31
    assert abs(1 - mt["rif/slope"]) < abs(1 - mt["if/slope"])


def test_synthetic_dataset_is_seeded_and_labelled():
    a, b = SyntheticLogistic(n=50, d=5, seed=1), SyntheticLogistic(n=50, d=5, seed=1)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.provenance == "generated" and a.describe()["synthetic"]
    assert set(np.unique(a.y)) <= {0.0, 1.0}


@pytest.mark.parametrize("kwargs", [dict(fraction=[0.0, 0.05]), dict(fraction=[0.01, 1.2]), dict(lam=0.0),
                                    dict(estimator="tracin"), dict(strategy="nope"), dict(metric="acc"),
                                    dict(n_train_factor=-1.0), dict(n_sizes=0)])
def test_bad_options_are_user_errors(kwargs):
    with pytest.raises(UserError):
        InfluenceRemoval(**kwargs)


def test_too_many_training_rows_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="test rows"):
        run(InfluenceRemoval(n_train_factor=30.0), dataset("breast_cancer"), tmp_path)


def test_poisoning_runs_end_to_end_and_rif_sees_the_poison(tmp_path):
    from methods.attribution.method import Poisoning

    m = Poisoning(n_poisons=4)
    m.name = "rif_poison"
    res = run(m, dataset("digits", classes=[3, 8]), tmp_path)
    mt = res.metrics
    assert mt["n_poisons"] == 4 and 0 < mt["mean_h_poison"] < 1
    for e in ("if", "rif", "ns"):
        assert 0 <= mt[f"{e}/auc"] <= 1 and 0 <= mt[f"{e}/detect_rate"] <= 1
    assert abs(1 - mt["rif/median_ratio"]) < abs(1 - mt["if/median_ratio"])   # measured, not assumed
    attacks = res.tables["attacks"]
    assert len(attacks) == 4 and {"actual", "if", "rif", "ns", "h_poison"} <= set(attacks.columns)
    assert "poison_effects" in res.figures


def test_poison_auc_counts_ties_half():
    from methods.attribution.poisoning import poison_auc

    assert poison_auc(np.array([0.1, 0.5, 0.9, 0.3]), 2) == 1.0
    assert poison_auc(np.array([0.1, 0.5, 0.5, 0.9]), 2) == pytest.approx(0.5)


def test_closed_form_checks_run_end_to_end(tmp_path):
    from methods.attribution.method import ClosedFormChecks

    ds = SyntheticLogistic(n=150, d=6, seed=0)
    ds.name = "rif_synthetic"
    mt = run(ClosedFormChecks(n_train=100, n_probe=5), ds, tmp_path).metrics
    assert mt["ridge_loo_err"] < 1e-10 and mt["woodbury_vs_direct_err"] < 1e-8
    assert mt["refit_max_grad"] <= 1e-10 and mt["leverage_max"] < 1 and mt["own_loss_min"] >= 0
    assert mt["rif_vs_loo_newton_gap_tiny_lam"] < 1e-6
