"""Thin engine adapters: the function, PINN and PPO methods and the CartPole environment."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from runner.api import Dataset, Method, Result, RunContext, UserError, check, check_finite

FIT_GRID = np.linspace(-1.0, 1.0, 801)     # where 1-D fits are tabulated for the figures
ZOOM_GRID = np.linspace(-0.05, 0.05, 401)  # the jump region of the Heaviside
FIELD_GRID = 51                            # PINN fields are tabulated on a 51×51 grid


def _torch(ctx: RunContext):
    import torch

    if ctx.threads > 0:
        torch.set_num_threads(ctx.threads)
    return torch


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((pred - y) ** 2))


def _function_metrics(predict, data: dict, band: float) -> dict[str, float]:
    """train/test MSE (the paper's metric is the train-grid MSE) and the test MSE on |x| ≥ band."""
    m = {"train_mse": _mse(predict(data["x_train"]), data["y_train"]),
         "test_mse": _mse(predict(data["x_test"]), data["y_test"])}
    if band > 0:
        keep = np.abs(data["x_test"][:, 0]) >= band
        m["test_mse_band"] = _mse(predict(data["x_test"][keep]), data["y_test"][keep])
    return m


def _fit_outputs(ctx: RunContext, predict, dataset, label: str, figure: bool) -> None:
    """For 1-D targets: the fit table (x, y, prediction on [−1, 1] and zoomed on the jump) and a figure."""
    if dataset.dim != 1:
        return
    x = np.concatenate([FIT_GRID, ZOOM_GRID])
    ctx.save_table("fit", pd.DataFrame({"x": x, "y": dataset.fn(x[:, None]), "pred": predict(x[:, None]),
                                        "zoom": np.r_[np.zeros(len(FIT_GRID)), np.ones(len(ZOOM_GRID))]}))
    if not figure:
        return
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(FIT_GRID, dataset.fn(FIT_GRID[:, None]), "k--", lw=1, label="target")
    ax1.plot(FIT_GRID, predict(FIT_GRID[:, None]), lw=1, label=label)
    ax1.set(xlabel="x", ylabel="y", title="fit")
    ax1.legend()
    err = np.abs(predict(ZOOM_GRID[:, None]) - dataset.fn(ZOOM_GRID[:, None]))
    ax2.semilogy(ZOOM_GRID, np.maximum(err, 1e-16), lw=1)
    ax2.set(xlabel="x", ylabel="|error|", title="pointwise error near the jump")
    fig.tight_layout()
    ctx.save_figure("fit", fig)


class _ModelMethod(Method):
    """Architecture hyper-parameters shared by every method: ``arch`` xnet|kan|mlp,
    ``hidden`` widths, MLP ``activation``, KAN ``grid``/``k``/``grid_range``/``grid_updates``;
    ``figures`` switches the per-run figures (the tables are always written)."""

    def __init__(self, arch: str = "xnet", hidden: list[int] = (64,), activation: str = "relu", grid: int = 5,
                 k: int = 3, grid_range: list[float] = (-1.0, 1.0), grid_updates: int = 0, figures: bool = True):
        from methods.xnet.models import check_arch

        hidden = list(hidden)
        check_arch(arch, hidden, activation, grid, k)
        _check_grid_range(grid_range)
        check(grid_updates >= 0, f"method.grid_updates must be >= 0, got {grid_updates}")
        self.arch, self.hidden, self.activation = arch, hidden, activation
        self.grid, self.k, self.grid_range, self.grid_updates = grid, k, tuple(grid_range), grid_updates
        self.figures = bool(figures)  # per-run figures (sweeps switch them off: the report draws its own)

    def _build(self, n_in: int, n_out: int, seed: int):
        from methods.xnet.models import build_model

        return build_model(self.arch, n_in, self.hidden, n_out, activation=self.activation, grid=self.grid,
                           k=self.k, grid_range=self.grid_range, seed=seed)

    def _label(self, n_in: int, n_out: int) -> str:
        from methods.xnet.models import arch_label

        return arch_label(self.arch, n_in, self.hidden, n_out, self.grid)


def _check_grid_range(grid_range) -> None:
    check(len(grid_range) == 2 and grid_range[0] < grid_range[1], f"method.grid_range must be [lo, hi] with lo < hi, got {grid_range}")


def _check_steps(steps: int, lr: float, name: str = "steps") -> None:
    check(isinstance(steps, int) and steps >= 1, f"method.{name} must be a positive integer, got {steps!r}")
    check(np.isfinite(lr) and lr > 0, f"method.lr must be a finite positive number, got {lr!r}")


class FunctionFit(_ModelMethod):
    """Full-batch Adam regression of a function target (MSE loss) with an XNet, KAN or MLP.

    ``lr`` is one learning rate or a list of them: each is trained from the same initialisation
    and the run keeps the one with the lowest final train MSE (``best_lr`` in the metrics).
    """

    task = "function"

    def __init__(self, steps: int = 1000, lr: float | list[float] = 1e-2, schedule: str = "cosine", **arch):
        super().__init__(**arch)
        self.lrs = [float(v) for v in (lr if isinstance(lr, (list, tuple)) else [lr])]
        check(len(self.lrs) >= 1, "method.lr must not be an empty list")
        for v in self.lrs:
            _check_steps(steps, v)
        check(schedule in ("cosine", "constant"), f"method.schedule must be cosine or constant, got {schedule!r}")
        self.steps, self.schedule = steps, schedule

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        from methods.xnet.models import n_params
        from methods.xnet.train import fit_adam

        torch = _torch(ctx)
        data = dataset.load()
        for key in ("x_train", "y_train"):
            check_finite(key, data[key])
        x = torch.as_tensor(data["x_train"], dtype=torch.float64)
        y = torch.as_tensor(data["y_train"], dtype=torch.float64)[:, None]
        best, seconds = None, 0.0
        for lr in self.lrs:
            model = self._build(dataset.dim, 1, ctx.sub_seed("init"))
            history, sec = fit_adam(model, lambda: (model(x) - y).pow(2).mean(), self.steps, lr, self.schedule,
                                    grid_points=x, grid_updates=self.grid_updates,
                                    progress=lambda it, n, d: ctx.progress(it, total=n, desc=f"{d} lr={lr:g}"))
            seconds += sec
            with torch.no_grad():
                final = float((model(x) - y).pow(2).mean())
            if best is None or final < best[0]:
                best = (final, lr, model, history)
        _, lr, model, history = best

        def predict(z: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model(torch.as_tensor(z, dtype=torch.float64))[:, 0].numpy()

        metrics = _function_metrics(predict, data, dataset.band)
        metrics.update({"n_params": n_params(model), "best_lr": lr,
                        "time/per_step": seconds / (self.steps * len(self.lrs)), "time/train_s": seconds})
        ctx.save_table("history", pd.DataFrame(history, columns=["step", "loss"]))
        _fit_outputs(ctx, predict, dataset, self._label(dataset.dim, 1), self.figures)
        return Result(metrics=metrics)


class KanLeastSquares(Method):
    """The exact least-squares fit of a 1-D target by the order-k B-splines of a G-interval
    uniform grid on [lo, hi]: the best a KAN [1,1] spline edge can do (the spec's oracle)."""

    task = "function"

    def __init__(self, grid: int = 200, k: int = 3, grid_range: list[float] = (-1.0, 1.0), figures: bool = True):
        check(grid >= 1 and k >= 0, f"method.grid must be >= 1 and method.k >= 0, got {grid}, {k}")
        _check_grid_range(grid_range)
        self.grid, self.k, self.grid_range, self.figures = grid, k, tuple(grid_range), bool(figures)

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        from methods.xnet.kan import spline_1d, spline_lstsq_coef

        torch = _torch(ctx)
        if dataset.dim != 1:
            raise UserError(f"method '{self.name}' fits 1-D targets only; dataset '{dataset.name}' is {dataset.dim}-D")
        data = dataset.load()
        check_finite("y_train", data["y_train"])
        t0 = time.perf_counter()
        coef = spline_lstsq_coef(torch.as_tensor(data["x_train"][:, 0]), torch.as_tensor(data["y_train"]),
                                 self.grid, self.k, *self.grid_range)
        seconds = time.perf_counter() - t0

        def predict(z: np.ndarray) -> np.ndarray:
            return spline_1d(torch.as_tensor(z[:, 0], dtype=torch.float64), coef, self.grid, self.k,
                             *self.grid_range).numpy()

        metrics = _function_metrics(predict, data, dataset.band)
        metrics.update({"n_params": float(self.grid + self.k), "time/fit_s": seconds})
        _fit_outputs(ctx, predict, dataset, f"B-spline least squares G={self.grid}", self.figures)
        return Result(metrics=metrics)


class PinnSolver(_ModelMethod):
    """A PINN: minimise the residual + boundary (+ initial) loss by Adam, then L-BFGS."""

    task = "pde"

    def __init__(self, adam_steps: int = 3000, lr: float = 1e-3, lbfgs_steps: int = 200, **arch):
        super().__init__(**arch)
        _check_steps(adam_steps, lr, "adam_steps")
        check(isinstance(lbfgs_steps, int) and lbfgs_steps >= 0, f"method.lbfgs_steps must be an integer >= 0, got {lbfgs_steps!r}")
        self.adam_steps, self.lr, self.lbfgs_steps = adam_steps, lr, lbfgs_steps

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        from methods.xnet.models import n_params
        from methods.xnet.pde import collocation, exact_solution, pinn_loss, eval_grid
        from methods.xnet.train import fit_adam, fit_lbfgs

        torch = _torch(ctx)
        pde = dataset.pde
        points = collocation(pde, dataset.n_collocation)
        model = self._build(2, 1, ctx.sub_seed("init"))

        def u_fn(z):
            return model(z)[:, 0]

        def loss_fn():
            return pinn_loss(pde, u_fn, points)

        history, adam_s = fit_adam(model, loss_fn, self.adam_steps, self.lr, "constant",
                                   grid_points=points["interior"], grid_updates=self.grid_updates,
                                   progress=lambda it, n, d: ctx.progress(it, total=n, desc=d))
        hist2, lbfgs_s = fit_lbfgs(model, loss_fn, self.lbfgs_steps, start=self.adam_steps)
        z = eval_grid(pde, dataset.n_test)
        with torch.no_grad():
            pred, exact = u_fn(z), exact_solution(pde, z)
        err = (pred - exact).numpy()
        metrics = {"test_mse": float(np.mean(err ** 2)), "test_max_abs_err": float(np.max(np.abs(err))),
                   "rel_l2": float(np.linalg.norm(err) / np.linalg.norm(exact.numpy())),
                   "final_loss": float(loss_fn().detach()), "n_params": n_params(model),
                   "time/per_step": adam_s / self.adam_steps, "time/adam_s": adam_s, "time/lbfgs_s": lbfgs_s}
        ctx.save_table("history", pd.DataFrame(history + hist2, columns=["step", "loss"]))
        zf = eval_grid(pde, FIELD_GRID)  # the tabulated field (for figures) is coarser than the test grid
        with torch.no_grad():
            pf, ef = u_fn(zf).numpy(), exact_solution(pde, zf).numpy()
        zf = zf.numpy()
        ctx.save_table("solution", pd.DataFrame({"x": zf[:, 0], "y": zf[:, 1], "pred": pf, "exact": ef}))
        if self.figures:
            ctx.save_figure("solution", solution_figure(zf, pf, ef, FIELD_GRID, f"{self._label(2, 1)} on {pde}"))
        return Result(metrics=metrics)


def solution_figure(z: np.ndarray, pred: np.ndarray, exact: np.ndarray, n: int, title: str):
    """PINN solution, exact solution and log10 |error| on the n×n test grid."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.3))
    axes = fig.subplots(1, 3)
    extent = [z[:, 0].min(), z[:, 0].max(), z[:, 1].min(), z[:, 1].max()]
    err = np.log10(np.maximum(np.abs(pred - exact), 1e-16))
    for ax, v, name in zip(axes, (pred, exact, err), ("PINN u", "exact u", "log10 |error|")):
        im = ax.imshow(v.reshape(n, n).T, origin="lower", extent=extent, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set(xlabel="x", ylabel="y / t", title=name)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


class GymEnv(Dataset):
    """A gymnasium environment with discrete actions (a simulator: transitions are generated)."""

    task = "rl"
    provenance = "generated"

    def __init__(self, env_id: str = "CartPole-v1"):
        check(isinstance(env_id, str) and env_id != "", f"dataset.env_id must be a gymnasium id, got {env_id!r}")
        self.env_id = env_id

    def make(self, n: int) -> list:
        from methods.xnet.ppo import make_envs

        return make_envs(self.env_id, n)

    def describe(self) -> dict:
        return {**super().describe(), "env_id": self.env_id, "simulated": True}


class PPOAgent(_ModelMethod):
    """PPO with an actor (obs → action logits) and a critic (obs → value) of the same architecture."""

    task = "rl"

    def __init__(self, total_steps: int = 50_000, num_envs: int = 4, num_steps: int = 128, lr: float = 2.5e-4,
                 gamma: float = 0.99, gae_lambda: float = 0.95, num_minibatches: int = 4, update_epochs: int = 4,
                 clip: float = 0.2, ent_coef: float = 0.01, vf_coef: float = 0.5, max_grad_norm: float = 0.5,
                 last_episodes: int = 20, **arch):
        super().__init__(**arch)
        _check_steps(total_steps, lr, "total_steps")
        check(num_envs >= 1 and num_steps >= 1 and update_epochs >= 1, "method.num_envs, num_steps and update_epochs must be >= 1")
        check(num_minibatches >= 1 and (num_envs * num_steps) % num_minibatches == 0,
              f"method.num_minibatches must divide num_envs*num_steps={num_envs * num_steps}, got {num_minibatches}")
        check(0 < gamma <= 1 and 0 <= gae_lambda <= 1, f"method.gamma must be in (0,1] and gae_lambda in [0,1], got {gamma}, {gae_lambda}")
        check(last_episodes >= 1, f"method.last_episodes must be >= 1, got {last_episodes}")
        from methods.xnet.ppo import PPOConfig

        self.cfg = PPOConfig(total_steps, num_envs, num_steps, lr, gamma, gae_lambda, num_minibatches, update_epochs,
                             clip, ent_coef, vf_coef, max_grad_norm, self.grid_updates)
        self.last_episodes = last_episodes

    def run(self, dataset: Dataset, ctx: RunContext) -> Result:
        from methods.xnet.models import n_params
        from methods.xnet.ppo import learning_curve, run_ppo

        _torch(ctx)
        envs = dataset.make(self.cfg.num_envs)
        obs_dim, n_actions = envs[0].observation_space.shape[0], int(envs[0].action_space.n)
        actor = self._build(obs_dim, n_actions, ctx.sub_seed("actor"))
        critic = self._build(obs_dim, 1, ctx.sub_seed("critic"))
        out = run_ppo(actor, critic, envs, self.cfg, [ctx.sub_seed("env", i) for i in range(len(envs))],
                      ctx.torch_generator("ppo"), progress=lambda it, n, d: ctx.progress(it, total=n, desc=d))
        for env in envs:
            env.close()
        ep = pd.DataFrame(out["episodes"], columns=["step", "return"])
        steps, returns = ep["step"].to_numpy(), ep["return"].to_numpy()
        curve = learning_curve(steps, returns, out["env_steps"])
        metrics = {"final_return": float(np.mean(returns[-self.last_episodes:])) if len(returns) else 0.0,
                   "auc_return": float(np.mean(curve)), "episodes": float(len(returns)),
                   "env_steps": float(out["env_steps"]), "n_params": float(n_params(actor) + n_params(critic)),
                   "time/per_update": out["update_seconds"] / out["n_updates"],
                   "time/rollout_s": out["rollout_seconds"], "time/update_s": out["update_seconds"]}
        ctx.save_table("episodes", ep)
        if self.figures:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6, 3.5))
            ax = fig.subplots()
            ax.plot(steps, returns, ".", ms=2, alpha=0.4, label="episodes")
            ax.plot((np.arange(len(curve)) + 1) * out["env_steps"] / len(curve), curve, "-", label="binned mean")
            ax.set(xlabel="environment steps", ylabel="episodic return", title=f"PPO {self._label(obs_dim, n_actions)}")
            ax.legend()
            ctx.save_figure("learning_curve", fig)
        return Result(metrics=metrics)
