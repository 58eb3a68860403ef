"""Contracts, config resolver, records."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from runner.api import Dataset, Method, RunContext, UserError, check_finite, check_task
from runner.config import dataset_tasks, register_resolvers
from runner.records import atomic_write, save_outputs


@pytest.mark.parametrize("scale, expected", [("smoke", 1), ("default", 2), ("paper", 3)])
def test_scaled_resolver_picks_the_value_of_the_scale(scale, expected):
    register_resolvers()
    cfg = OmegaConf.create({"scale": {"name": scale}, "n": "${scaled:1,2,3}"})
    assert cfg.n == expected


def test_default_config_composes():
    register_resolvers()
    with initialize_config_module(config_module="mlrun_conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=["method=debug", "scale=smoke"])
    assert cfg.method.name == "debug" and cfg.scale.name == "smoke" and cfg.seed == 0


def test_run_context_seeds_are_deterministic_and_distinct(tmp_path):
    a, b = RunContext(tmp_path, seed=5), RunContext(tmp_path, seed=5)
    assert a.rng.random() == b.rng.random()
    assert a.sub_seed("x") == b.sub_seed("x") != a.sub_seed("y")
    assert RunContext(tmp_path, seed=6).sub_seed("x") != a.sub_seed("x")


def test_task_mismatch_names_compatible_datasets():
    m, d = Method(), Dataset()
    m.task, m.name, d.task, d.name = "density", "ibw", "operator", "grid"
    with pytest.raises(UserError, match="compatible datasets: a, b"):
        check_task(m, d, ["b", "a"])
    with pytest.raises(UserError, match="set dataset.task=density$"):
        check_task(m, d, ["a"], task_configurable=True)
    assert "digits" in dataset_tasks()["binary_classification"]


def test_check_finite_rejects_nan():
    with pytest.raises(UserError, match="NaN"):
        check_finite("x", np.array([1.0, np.nan]))


def test_outputs_are_written_atomically(tmp_path):
    import pandas as pd

    atomic_write(tmp_path / "a" / "f.txt", "hello")
    assert (tmp_path / "a" / "f.txt").read_text() == "hello"
    save_outputs(tmp_path, {"m": 1.5}, {"t": pd.DataFrame({"x": [1, 2]})}, {})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"m": 1.5}
    assert (tmp_path / "tables" / "t.md").read_text().startswith("|")
    assert not list(tmp_path.glob("**/*.tmp"))
