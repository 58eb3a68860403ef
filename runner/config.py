"""Config helpers: the ``scaled`` resolver and the config tree as data (for error messages)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from omegaconf import OmegaConf

SCALES = ("smoke", "default", "paper")


def scaled(smoke, default, paper, *, _root_):
    """``${scaled:S,D,P}``: the value for the run's ``scale.name`` (smoke, default or paper)."""
    name = _root_.scale.name
    if name not in SCALES:
        raise ValueError(f"unknown scale '{name}'; known: {', '.join(SCALES)}")
    return {"smoke": smoke, "default": default, "paper": paper}[name]


def register_resolvers() -> None:
    """Register mlrun's OmegaConf resolvers once per process (workers of launchers too)."""
    if not OmegaConf.has_resolver("scaled"):
        OmegaConf.register_new_resolver("scaled", scaled)


def conf_dir() -> Path:
    """The folder holding ``config.yaml`` (installed package data or the checkout's ``conf/``)."""
    return Path(str(resources.files("mlrun_conf")))


@lru_cache(maxsize=1)
def dataset_tasks() -> dict[str, list[str]]:
    """``task -> [dataset config names]``, read from the ``task`` key or class of each dataset YAML."""
    from hydra.utils import get_class

    found: dict[str, list[str]] = {}
    for path in sorted((conf_dir() / "dataset").glob("*.yaml")):
        node = OmegaConf.load(path)
        try:
            task = node.get("task")
        except Exception:  # an interpolation that needs the full config
            task = None
        if task is None:
            try:
                task = getattr(get_class(node["_target_"]), "task", None)
            except Exception:
                task = None
        if task:
            found.setdefault(str(task), []).append(path.stem)
    return found
