"""mlrun Method adapters: isotropic-mixture VI (IBW, MD, GD, NGD, IBW-s, MD-s), full-covariance
BW, the RealNVP flow, mean-field ADVI and reference HMC.  Thin: the mathematics is in ``fit``,
``updates``, ``mixture``, ``flow``, ``advi`` and ``hmc``."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from runner.api import Method, Result, RunContext, UserError, check, check_task

from .fit import ALGOS, CRN, FullMixture, IsoMixture, fit_mixture


def _target(method: Method, dataset) -> object:
    """Refuse datasets of another task (one line), then build the target."""
    if method.task != dataset.task:
        from runner.config import dataset_tasks

        check_task(method, dataset, dataset_tasks().get(method.task, []))
    return dataset.target


def _hyper(value, dataset, key: str) -> float:
    """The method's value, or the dataset's Table-1 default when the method leaves it null."""
    v = dataset.vi_defaults[key] if value is None else float(value)
    check(v > 0, f"method.{key} must be > 0, got {v}")
    return v


def _kl_key(target) -> str:
    return "kl" if target.normalised else "neg_elbo"


def _eval_every(n_iter: int, n_evals: int) -> int:
    return max(1, n_iter // max(1, n_evals))


def _figures(ctx: RunContext, target, q_samples: np.ndarray, log_q=None, means=None, eps=None, label="q"):
    """Per-run figures: 2-D density with components, or first marginals vs target samples."""
    from .plots import limits, new_figure, plot_density_2d, plot_marginals

    if target.dim == 2 and hasattr(target, "sample"):
        fig, ax = new_figure()
        lim = limits(np.concatenate([target.sample(5000, ctx.sub_rng("plot")), q_samples]))
        plot_density_2d(ax[0, 0], target, log_q, means, eps, lim, title=label)
        ctx.save_figure("density", fig)
    elif target.dim > 2 and hasattr(target, "sample"):
        k = min(10, target.dim)
        fig, ax = new_figure(ncols=5, nrows=(k + 4) // 5, size=(2.4, 2.0))
        plot_marginals(ax.ravel()[:k], target.sample(len(q_samples), ctx.sub_rng("plot")), q_samples, label)
        ctx.save_figure("marginals", fig)


def _common_metrics(target, trace: list, step_times: list, n_params: int, q_samples: np.ndarray,
                    ctx: RunContext) -> dict:
    key = _kl_key(target)
    metrics = {key: trace[-1]["kl"], f"{key}_init": trace[0]["kl"],
               "time/per_iter": float(np.median(step_times)) if step_times else float("nan"),
               "time/per_iter_mean": float(np.mean(step_times)) if step_times else float("nan"),
               "n_params": float(n_params)}
    metrics.update(target.evaluate(q_samples, ctx.sub_rng("evaluate")))
    return metrics


def _trace_table(target, trace: list) -> pd.DataFrame:
    return pd.DataFrame(trace).rename(columns={"kl": _kl_key(target)})


class MixtureVI(Method):
    """Uniform-weight Gaussian-mixture VI (Algorithm 1 and its baselines).

    ``algo``: ibw | md (the paper's), gd (means only, ε fixed at init_r), ngd, ibw_s | md_s (shared
    variance), bw (full covariances).  ``init_s``, ``init_r``, ``lr`` default to the dataset's.
    ``exact_grad`` uses closed-form Stein statistics (only for a Gaussian target and one component).
    """

    task = "density"

    def __init__(self, algo: str = "ibw", n_components: int = 10, n_iter: int = 1000, lr: float | None = None,
                 init_s: float | None = None, init_r: float | None = None, n_grad_samples: int = 10,
                 n_kl_samples: int = 1000, n_evals: int = 100, n_eval_samples: int = 1000,
                 exact_grad: bool = False, figures: bool = True):
        check(algo in ALGOS, f"method.algo must be one of {', '.join(ALGOS)}, got {algo!r}")
        check(n_components >= 1, f"method.n_components must be >= 1, got {n_components}")
        check(n_iter >= 1 and n_grad_samples >= 1 and n_kl_samples >= 1 and n_evals >= 1 and n_eval_samples >= 1,
              "method.n_iter, n_grad_samples, n_kl_samples, n_evals and n_eval_samples must be >= 1")
        self.algo, self.n_components, self.n_iter, self.lr = algo, int(n_components), int(n_iter), lr
        self.init_s, self.init_r, self.n_grad, self.n_kl = init_s, init_r, int(n_grad_samples), int(n_kl_samples)
        self.n_evals, self.n_eval_samples, self.exact, self.figures = int(n_evals), int(n_eval_samples), exact_grad, figures

    def run(self, dataset, ctx: RunContext) -> Result:
        target = _target(self, dataset)
        s, r, lr = (_hyper(self.init_s, dataset, "init_s"), _hyper(self.init_r, dataset, "init_r"),
                    _hyper(self.lr, dataset, "lr"))
        if self.exact:
            check(hasattr(target, "exact_stats") and self.n_components == 1 and self.algo != "bw",
                  "method.exact_grad=true needs dataset=mvi_gauss, n_components=1 and an isotropic algorithm")
        n, d = self.n_components, target.dim
        means = target.init_means(n, s, ctx.sub_rng("init"))
        fam = FullMixture(means, np.stack([r * np.eye(d)] * n)) if self.algo == "bw" else IsoMixture(means, np.full(n, r))
        crn = CRN.draw(n, self.n_kl, d, ctx.sub_rng("kl"))
        eval_crn = CRN.draw(n, self.n_eval_samples, d, ctx.sub_rng("eval"))
        trace_eval = None
        if getattr(target, "trace_metrics", False):
            def trace_eval(f):
                return target.evaluate(f.sample(eval_crn.idx, eval_crn.noise), None)
        tail = TailAverage(self.n_iter) if hasattr(target, "optimal_eps") else None
        fit = fit_mixture(self.algo, fam, target, lr, self.n_iter, self.n_grad, ctx.sub_rng("grad"), crn,
                          _eval_every(self.n_iter, self.n_evals),
                          progress=ctx.progress, exact=self.exact, trace_eval=trace_eval,
                          on_step=tail)
        if fit.stopped:
            ctx.log.warning("%s stopped early: %s", self.algo, fit.stopped)
        if fit.md_clipped:
            ctx.log.warning("MD exponent clipped %d times (tiny variances)", fit.md_clipped)
        q = fit.fam.sample(eval_crn.idx, eval_crn.noise)
        metrics = _common_metrics(target, fit.trace, fit.step_times, fit.fam.n_params, q, ctx)
        metrics.update({"n_iter_done": float(fit.n_iter_done), "stopped_early": float(bool(fit.stopped)),
                        "min_eps": fit.min_eps, "md_clipped": float(fit.md_clipped),
                        "lr": lr, "init_s": s, "init_r": r})
        if tail is not None:
            metrics.update(tail.errors(fit.fam, target))
        ctx.save_table("trace", _trace_table(target, fit.trace))
        ctx.save_table("params", fit.fam.table())
        if self.figures:
            eps = fit.fam.eps if self.algo != "bw" else None
            _figures(ctx, target, q, fit.fam.log_q, fit.fam.means, eps, label=f"{self.algo}, N={n}")
        return Result(metrics=metrics)


class TailAverage:
    """Averages the iterates of the last 20% of iterations (E1's Monte Carlo acceptance)."""

    def __init__(self, n_iter: int):
        self.start, self.count, self.means, self.eps = int(0.8 * n_iter), 0, 0.0, 0.0

    def __call__(self, it: int, fam) -> None:
        if it > self.start:
            self.count += 1
            self.means = self.means + fam.means
            self.eps = self.eps + fam.eps

    def errors(self, fam, target) -> dict:
        """|ε-ε*|/ε* and |m-μ| for the last iterate and for the tail average (one component)."""
        e_star = target.optimal_eps
        out = {"eps_rel_err": float(abs(fam.eps[0] - e_star) / e_star),
               "mean_err": float(np.linalg.norm(fam.means[0] - target.mean)), "eps_star": e_star}
        if self.count:
            out["eps_rel_err_avg"] = float(abs(self.eps[0] / self.count - e_star) / e_star)
            out["mean_err_avg"] = float(np.linalg.norm(self.means[0] / self.count - target.mean))
        return out


class FlowVI(Method):
    """RealNVP flow trained by reverse KL with Adam (the paper's NF baseline)."""

    task = "density"

    def __init__(self, n_layers: int = 4, hidden: int = 124, lr: float = 1e-3, n_iter: int = 2000,
                 batch_size: int = 100, n_kl_samples: int = 1000, n_evals: int = 100,
                 n_eval_samples: int = 1000, figures: bool = True):
        check(n_layers >= 1 and hidden >= 1 and n_iter >= 1 and batch_size >= 1, "method sizes must be >= 1")
        check(lr > 0, f"method.lr must be > 0, got {lr}")
        self.n_layers, self.hidden, self.lr, self.n_iter, self.batch = n_layers, hidden, lr, int(n_iter), batch_size
        self.n_kl, self.n_evals, self.n_eval_samples, self.figures = n_kl_samples, n_evals, n_eval_samples, figures

    def run(self, dataset, ctx: RunContext) -> Result:
        import torch

        from .flow import RealNVP, flow_kl, surrogate_loss

        target = _target(self, dataset)
        check(target.dim >= 2, "method=mvi_flow needs a target of dimension >= 2")
        torch.set_num_threads(ctx.threads or 1)   # a tiny network: more threads only add contention
        torch.manual_seed(ctx.sub_seed("flow-init"))
        flow = RealNVP(target.dim, self.n_layers, self.hidden).double()
        opt = torch.optim.Adam(flow.parameters(), lr=self.lr)
        gen = ctx.torch_generator("flow-noise")
        z_kl = torch.from_numpy(ctx.sub_rng("kl").standard_normal((self.n_kl, target.dim)))
        every = _eval_every(self.n_iter, self.n_evals)
        trace, times = [{"iteration": 0, "kl": flow_kl(flow, z_kl, target.log_prob)}], []
        for it in ctx.progress(range(1, self.n_iter + 1), total=self.n_iter, desc="flow"):
            t0 = time.perf_counter()
            z = torch.randn(self.batch, target.dim, generator=gen, dtype=torch.float64)
            opt.zero_grad()
            surrogate_loss(flow, z, target.score).backward()
            opt.step()
            times.append(time.perf_counter() - t0)
            if it % every == 0 or it == self.n_iter:
                trace.append({"iteration": it, "kl": flow_kl(flow, z_kl, target.log_prob)})
        z_eval = torch.from_numpy(ctx.sub_rng("eval").standard_normal((self.n_eval_samples, target.dim)))
        with torch.no_grad():
            q = flow(z_eval)[0].numpy()
        metrics = _common_metrics(target, trace, times, flow.n_params, q, ctx)
        if not np.isfinite(metrics[_kl_key(target)]):
            raise UserError(f"the flow diverged (non-finite KL); lower method.lr (now {self.lr})")
        ctx.save_table("trace", _trace_table(target, trace))
        if self.figures:
            def log_q(x):
                with torch.no_grad():
                    return flow.log_prob(torch.from_numpy(x)).numpy()
            _figures(ctx, target, q, log_q, label="RealNVP")
        return Result(metrics=metrics)


class ADVI(Method):
    """Mean-field Gaussian ADVI with reparameterised gradients and Adam (reference on posteriors)."""

    task = "density"

    def __init__(self, n_iter: int = 5000, lr: float = 1e-2, n_grad_samples: int = 10, n_kl_samples: int = 1000,
                 n_evals: int = 100, n_eval_samples: int = 1000):
        check(n_iter >= 1 and n_grad_samples >= 1 and lr > 0, "method.n_iter, n_grad_samples >= 1 and lr > 0")
        self.n_iter, self.lr, self.n_grad, self.n_kl = int(n_iter), lr, n_grad_samples, n_kl_samples
        self.n_evals, self.n_eval_samples = n_evals, n_eval_samples

    def run(self, dataset, ctx: RunContext) -> Result:
        from .advi import Adam, advi_gradients, neg_elbo

        target = _target(self, dataset)
        d = target.dim
        mu, omega = np.zeros(d), np.zeros(d)
        opt = Adam(2 * d, self.lr)
        rng, noise_kl = ctx.sub_rng("grad"), ctx.sub_rng("kl").standard_normal((self.n_kl, d))
        noise_eval = ctx.sub_rng("eval").standard_normal((self.n_eval_samples, d))

        def record(it):
            row = {"iteration": it, "kl": neg_elbo(mu, omega, noise_kl, target.log_prob)}
            if getattr(target, "trace_metrics", False):
                row.update(target.evaluate(mu + np.exp(omega) * noise_eval, None))
            trace.append(row)

        trace, times, every = [], [], _eval_every(self.n_iter, self.n_evals)
        record(0)
        for it in ctx.progress(range(1, self.n_iter + 1), total=self.n_iter, desc="ADVI"):
            t0 = time.perf_counter()
            g_mu, g_om = advi_gradients(mu, omega, rng.standard_normal((self.n_grad, d)), target.score)
            new = opt.step(np.concatenate([mu, omega]), np.concatenate([g_mu, g_om]))
            mu, omega = new[:d], new[d:]
            times.append(time.perf_counter() - t0)
            if it % every == 0 or it == self.n_iter:
                record(it)
        q = mu + np.exp(omega) * noise_eval
        metrics = _common_metrics(target, trace, times, 2 * d, q, ctx)
        ctx.save_table("trace", _trace_table(target, trace))
        return Result(metrics=metrics)


class HMC(Method):
    """Reference HMC (own implementation, ``hmc.run_hmc``): chains start uniform in [-2, 2]^d."""

    task = "density"

    def __init__(self, n_chains: int = 4, n_warmup: int = 1000, n_draws: int = 1000, n_leapfrog: int = 20,
                 target_accept: float = 0.75, n_eval_samples: int = 1000):
        check(n_chains >= 1 and n_warmup >= 4 and n_draws >= 1 and n_leapfrog >= 1,
              "method.n_chains, n_draws, n_leapfrog must be >= 1 and n_warmup >= 4")
        check(0 < target_accept < 1, f"method.target_accept must be in (0, 1), got {target_accept}")
        self.n_chains, self.n_warmup, self.n_draws, self.n_leapfrog = n_chains, n_warmup, n_draws, n_leapfrog
        self.target_accept, self.n_eval_samples = target_accept, n_eval_samples

    def run(self, dataset, ctx: RunContext) -> Result:
        from .hmc import run_hmc, split_rhat

        target = _target(self, dataset)
        rng = ctx.sub_rng("hmc")
        x0 = rng.uniform(-2, 2, size=(self.n_chains, target.dim))
        t0 = time.perf_counter()
        out = run_hmc(target.log_prob, target.score, x0, self.n_warmup, self.n_draws, self.n_leapfrog, rng,
                      self.target_accept, progress=ctx.progress)
        wall = time.perf_counter() - t0
        draws = out["draws"].reshape(-1, target.dim)
        q = draws[ctx.sub_rng("eval").choice(len(draws), size=min(self.n_eval_samples, len(draws)), replace=False)]
        metrics = {"accept_rate": out["accept"], "step_size": out["step"],
                   "time/per_iter": wall / (self.n_warmup + self.n_draws),
                   "max_rhat": split_rhat(out["draws"]), **target.evaluate(q, ctx.sub_rng("evaluate"))}
        return Result(metrics=metrics)
