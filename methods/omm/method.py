"""Thin Method adapters: matrix-level OMM (``omm_linalg``), network-level OMM and baselines
(``omm``, ``omm2``, ``omm12``, ``omm_seq``, ``omm_jnt``, ``omm_sanger``, ``omm_lora``, ``omm_lora_seq``)
and the exact eigensolver (``omm_eigh``).  All solve task ``operator``."""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from runner.api import Method, Result, RunContext, UserError, check, check_task

from . import metrics as mx
from .datasets import OpBatch, OperatorDataset
from .objectives import OBJECTIVES
from .operators import exact_top, omm_matrix_loss, top_eigh

COMPATIBLE = ("omm_psd_gapped", "omm_psd_degenerate", "omm_psd_negative", "omm_psd_inverse",
              "omm_rbf1d", "omm_rbf2d", "omm_fourrooms", "omm_maze", "omm_digits_graph", "omm_hydrogen2d")


def _start(method: Method, dataset, ctx: RunContext) -> OperatorDataset:
    check_task(method, dataset, COMPATIBLE)
    check(isinstance(dataset, OperatorDataset),
          f"method '{method.name}' needs an operator dataset of package omm ({', '.join(COMPATIBLE)})")
    if ctx.threads and ctx.threads > 0:
        import torch

        torch.set_num_threads(int(ctx.threads))
    return dataset


def _mode_metrics(rep: dict, ctx: RunContext) -> pd.DataFrame:
    """Log summary and per-mode metrics; return the per-mode table."""
    cos = rep["cos"]
    for key in ("subspace_dist", "orth_err"):
        ctx.log_metric(key, rep[key])
    ctx.log_metric("mean_cos", float(np.mean(cos)))
    ctx.log_metric("min_cos", float(np.min(cos)))
    for i in range(len(cos)):
        for key in ("cos", "lam_hat", "eig_rel_err", "norm2"):
            ctx.log_metric(f"{key}_{i + 1}", rep[key][i])
    return pd.DataFrame({"mode": np.arange(1, len(cos) + 1), "lam": rep["lam"], "lam_hat": rep["lam_hat"],
                         "eig_rel_err": rep["eig_rel_err"], "cos": cos, "norm2": rep["norm2"]})


def _check_objective(objective: str) -> None:
    check(objective in OBJECTIVES, f"method.objective must be one of {', '.join(OBJECTIVES)}, got '{objective}'")


class LinalgOMM(Method):
    """The objectives on a matrix ``V`` (d x k): full-batch gradient descent or streaming Adam.

    Init ``V ~ N(0, init_scale^2 / d)``; ``init_bottom = c`` adds ``c`` times the eigenvector of the
    smallest eigenvalue of the matrix to column 1 (to start beyond the barrier of a non-PSD matrix)."""

    task = "operator"

    def __init__(self, objective: str = "omm", mode: str = "full", steps: int = 20000,
                 step: float = 0.1, lr: float = 1e-3, batch: int = 64, shift: float = 0.0,
                 init_scale: float = 1.0, init_bottom: float = 0.0, trace_every: int = 0):
        _check_objective(objective)
        check(mode in ("full", "stream"), f"method.mode must be 'full' or 'stream', got '{mode}'")
        check(int(steps) >= 1 and step > 0 and lr > 0 and int(batch) >= 1 and init_scale > 0,
              "method.steps, step, lr, batch and init_scale must be positive")
        self.objective, self.mode, self.steps = objective, mode, int(steps)
        self.step, self.lr, self.batch, self.shift = float(step), float(lr), int(batch), float(shift)
        self.init_scale, self.init_bottom, self.trace_every = float(init_scale), float(init_bottom), int(trace_every)

    def run(self, dataset, ctx: RunContext) -> Result:
        ds = _start(self, dataset, ctx)
        check(ds.has_matrix, f"method '{self.name}' needs a dataset with an explicit matrix; "
                             f"'{ds.name}' is a continuous operator (use a network method such as omm_seq)")
        A = ds.matrix()
        A = A.toarray() if hasattr(A, "toarray") else np.asarray(A, np.float64)
        lam, W = ds.truth()
        d, k = A.shape[0], ds.k
        ev = np.linalg.eigvalsh(A)
        if self.mode == "stream":
            check(not ds.inverse and ev.min() >= -1e-12,
                  f"method.mode=stream samples x ~ N(0, A) and needs a PSD matrix; '{ds.name}' is not")
        norm = np.abs(ev).max()
        step = self.step / norm if not ds.inverse else self.step / (norm ** 2 * lam[0])
        T = np.linalg.inv(A) if ds.inverse else A          # the target operator

        def target_values(V):
            return A @ V if ds.inverse else V

        def moments(F):
            return F.T @ F, F.T @ T @ F

        def trace(V):
            F = target_values(V)
            return {"loss_gap": omm_matrix_loss(F, T) + lam.sum(),
                    "subspace_dist": mx.subspace_distance(F, W),
                    "mean_cos": float(mx.aligned_cosines(F, W, lam).mean()),
                    "max_col_norm": float(np.linalg.norm(V, axis=0).max())}

        V0 = ctx.sub_rng("init").standard_normal((d, k)) * self.init_scale / np.sqrt(d)
        if self.init_bottom:        # push column 1 along the eigenvector of the smallest eigenvalue
            V0[:, 0] += self.init_bottom * np.linalg.eigh(A)[1][:, 0]
        every = self.trace_every or max(1, self.steps // 50)
        t0 = time.perf_counter()
        V, rows, diverged = _solve(self, A, V0, step, ds.inverse, ctx, every, trace)
        ctx.log_metric("time/train_s", time.perf_counter() - t0)
        ctx.log_metric("diverged", float(diverged >= 0))
        ctx.log_metric("diverged_step", float(diverged))
        F = target_values(V)
        ctx.log_metric("max_col_norm", float(np.linalg.norm(V, axis=0).max()))
        orders = {"omm2": (2,), "omm12": (1, 2)}.get(self.objective, (1,))
        ctx.log_metric("loss_gap", sum(omm_matrix_loss(F, T, p) + lam.sum() for p in orders))
        ctx.log_metric("loss_gap_omm1", omm_matrix_loss(F, T) + lam.sum())
        if np.all(np.isfinite(F)):
            rep = mx.mode_report(F, W, lam, *moments(F))
            modes = _mode_metrics(rep, ctx)
            ctx.log_metric("norm_err_unit", float(np.max(np.abs(rep["norm2"] - 1))))
            ctx.log_metric("norm_err_lambda", float(np.max(np.abs(rep["norm2"] - lam) / np.abs(lam))))
            ctx.save_table("modes", modes)
        ctx.save_table("trace", pd.DataFrame(rows))
        return Result()


def _solve(m: LinalgOMM, A, V0, step, inverse, ctx, every, trace):
    from .training import solve_matrix

    return solve_matrix(m.objective, A, V0, m.steps, mode=m.mode, step=step, lr=m.lr, batch=m.batch,
                        shift=m.shift, inverse=inverse, rng=ctx.sub_rng("stream"), trace_every=every,
                        trace=trace, progress=lambda it: ctx.progress(it, total=m.steps + 1, desc=m.name))


class NeuralOMM(Method):
    """An MLP ``f: inputs -> R^k`` trained with one objective from minibatch (or full-batch)
    moment estimates; metrics against the exact eigenfunctions on the dataset's evaluation set.

    Options (defaults keep the original behaviour): ``schedule`` constant | cosine learning rate
    after the warm-up; ``ema`` > 0 evaluates the moving average ``theta_bar <- ema theta_bar +
    (1 - ema) theta`` of the weights; ``shift`` trains on ``T + shift I`` (Rayleigh quotients are read
    out on the dataset's own operator); ``fourier`` > 0 random Fourier features
    ``[x, cos(x B), sin(x B)]``, ``B ~ N(0, s^2)`` for ``s`` in ``fourier_scales``; ``dtype`` of the network."""

    task = "operator"

    def __init__(self, objective: str = "omm", hidden: int = 128, depth: int = 3,
                 activation: str = "relu", steps: int = 5000, lr: float = 1e-3, warmup: float = 0.1,
                 batch: int = 256, estimator: str = "sampled", trace_every: int = 0,
                 schedule: str = "constant", ema: float = 0.0, shift: float = 0.0, fourier: int = 0,
                 fourier_scales=(1.0,), dtype: str = "float32"):
        _check_objective(objective)
        check(estimator in ("sampled", "full"), f"method.estimator must be 'sampled' or 'full', got '{estimator}'")
        check(activation in ("relu", "tanh", "softplus", "gelu"),
              f"method.activation must be relu, tanh, softplus or gelu, got '{activation}'")
        check(int(hidden) >= 1 and int(depth) >= 1 and int(steps) >= 1 and lr > 0 and int(batch) >= 2,
              "method.hidden, depth, steps, lr must be positive and method.batch >= 2")
        check(0 <= warmup < 1, f"method.warmup must be in [0, 1), got {warmup}")
        check(schedule in ("constant", "cosine"), f"method.schedule must be constant or cosine, got '{schedule}'")
        check(0 <= ema < 1, f"method.ema must be in [0, 1), got {ema}")
        check(dtype in ("float32", "float64"), f"method.dtype must be float32 or float64, got '{dtype}'")
        fourier_scales = tuple(float(v) for v in (fourier_scales if hasattr(fourier_scales, "__len__")
                                                  else [fourier_scales]))
        check(int(fourier) >= 0 and len(fourier_scales) >= 1 and min(fourier_scales) > 0,
              "method.fourier must be >= 0 and method.fourier_scales a non-empty list of positive scales")
        self.objective, self.hidden, self.depth = objective, int(hidden), int(depth)
        self.activation, self.steps, self.lr, self.warmup = activation, int(steps), float(lr), float(warmup)
        self.batch, self.estimator, self.trace_every = int(batch), estimator, int(trace_every)
        self.schedule, self.ema, self.shift, self.dtype = schedule, float(ema), float(shift), dtype
        self.fourier, self.fourier_scales = int(fourier), fourier_scales

    def _with_shift(self, b: OpBatch) -> OpBatch:
        """Training-only spectrum shift ``T + shift I``: ``shift * M[f]`` estimated on the batch's own
        shift points, else on its operator points (independent of the metric points)."""
        if not self.shift:
            return b
        idx = b.shift_idx if b.shift_idx is not None else np.unique(b.left)
        return dataclasses.replace(b, shift_idx=idx, shift=b.shift + self.shift)

    def run(self, dataset, ctx: RunContext) -> Result:
        ds = _start(self, dataset, ctx)
        check(ds.input_dim is not None, f"method '{self.name}' needs a dataset with network inputs; "
                                        f"'{ds.name}' is a bare matrix (use method=omm_linalg)")
        import torch

        from .training import make_mlp, train_network

        tdtype = getattr(torch, self.dtype)
        ev = ds.evaluation()
        xe = torch.as_tensor(ev.x, dtype=tdtype)
        net = make_mlp(ds.input_dim, ds.k, self.hidden, self.depth, self.activation, ctx.sub_seed("init"),
                       fourier=self.fourier, fourier_scales=self.fourier_scales, dtype=tdtype)
        rng = ctx.sub_rng("batches")
        full = ds.full_batch() if self.estimator == "full" else None

        def next_batch(t):
            return self._with_shift(full if full is not None else ds.sample_batch(rng, self.batch))

        def values(x, net_=net):
            with torch.no_grad():
                return net_(torch.as_tensor(x, dtype=tdtype)).double().numpy()

        def trace(net_):
            F = values(xe, net_)
            if not np.all(np.isfinite(F)):
                return {"subspace_dist": np.nan, "mean_cos": np.nan}
            return {"subspace_dist": mx.subspace_distance(F, ev.phi),
                    "mean_cos": float(mx.aligned_cosines(F, ev.phi, ev.lam).mean())}

        every = self.trace_every or max(1, self.steps // 40)
        t0 = time.perf_counter()
        rows, diverged = train_network(self.objective, net, next_batch, self.steps, lr=self.lr,
                                       warmup=self.warmup, schedule=self.schedule, ema=self.ema,
                                       trace_every=every, trace=trace,
                                       progress=lambda it: ctx.progress(it, total=self.steps + 1, desc=self.name))
        ctx.log_metric("time/train_s", time.perf_counter() - t0)
        ctx.log_metric("diverged", float(diverged >= 0))
        ctx.log_metric("diverged_step", float(diverged))
        ctx.save_table("trace", pd.DataFrame(rows))
        Fall = values(xe) if ev.aux_x is None else values(np.concatenate([ev.x, ev.aux_x]))
        F = Fall[:len(ev.x)]
        if not np.all(np.isfinite(Fall)):
            ctx.log_metric("subspace_dist", float("nan"))
            return Result()
        M_f, M_fTf = ev.moments(Fall)
        rep = mx.mode_report(F, ev.phi, ev.lam, M_f, M_fTf)
        ctx.save_table("modes", _mode_metrics(rep, ctx))
        for key, v in ds.extra_metrics(F, M_f, M_fTf).items():
            ctx.log_metric(key, v)
        if ds.labels is not None:
            ctx.log_metric("probe_acc", mx.linear_probe_accuracy(F, ds.labels, seed=0))
            ctx.log_metric("probe_acc_exact", mx.linear_probe_accuracy(ev.phi, ds.labels, seed=0))
        pts = ds.plot_points()
        if pts is not None:
            Q = mx.procrustes_rotation(F, ev.phi, ev.lam)
            learned = values(pts[0]) / np.sqrt(np.diagonal(M_f))
            truth = _truth_at(ds, pts[0]) @ Q
            ctx.save_table("eigfun", _eigfun_table(pts[1], truth, learned))
        return Result()


def _truth_at(ds: OperatorDataset, x: np.ndarray) -> np.ndarray:
    """True eigenfunctions at plot points: closed form (kernel) or the eigenvectors (finite states)."""
    if hasattr(ds, "eigenfunctions"):
        return ds.eigenfunctions(np.asarray(x, np.float64))
    return ds.evaluation().phi


def _eigfun_table(coords: dict, truth: np.ndarray, learned: np.ndarray) -> pd.DataFrame:
    cols = dict(coords)
    for i in range(truth.shape[1]):
        cols[f"true_{i + 1}"] = truth[:, i]
        cols[f"learned_{i + 1}"] = learned[:, i]
    return pd.DataFrame(cols)


class ExactEigensolver(Method):
    """Ground truth by ``numpy.linalg.eigh`` / ``scipy.sparse.linalg.eigsh`` on explicit matrices, or
    the Nystroem method on ``n_nystrom`` samples for the kernel operator."""

    task = "operator"

    def __init__(self, n_nystrom: int = 2000):
        check(int(n_nystrom) >= 10, f"method.n_nystrom must be >= 10, got {n_nystrom}")
        self.n_nystrom = int(n_nystrom)

    def run(self, dataset, ctx: RunContext) -> Result:
        ds = _start(self, dataset, ctx)
        t0 = time.perf_counter()
        if ds.has_matrix:
            lam, W = exact_top(ds.matrix(), ds.k, ds.inverse)
            ctx.log_metric("time/train_s", time.perf_counter() - t0)
            lam_true, W_true = ds.truth()
            ctx.log_metric("max_eig_rel_err", float(np.max(np.abs(lam - lam_true) / np.abs(lam_true))))
            ctx.log_metric("subspace_dist", mx.subspace_distance(W, W_true))
            if ds.labels is not None:
                ctx.log_metric("probe_acc", mx.linear_probe_accuracy(W, ds.labels, seed=0))
            ctx.save_table("modes", pd.DataFrame({"mode": np.arange(1, ds.k + 1), "lam": lam}))
            return Result()
        if not hasattr(ds, "sample"):
            raise UserError(f"method '{self.name}' cannot solve dataset '{ds.name}'")
        from .operators import rbf_kernel

        Xn = ds.sample(ctx.sub_rng("nystrom"), self.n_nystrom)
        lam_n, U = top_eigh(rbf_kernel(Xn, Xn, ds.ell) / self.n_nystrom, ds.k)
        ev = ds.evaluation()
        F = rbf_kernel(ev.x.astype(np.float64), Xn, ds.ell) @ U / lam_n   # Nystroem extension
        ctx.log_metric("time/train_s", time.perf_counter() - t0)
        rep = mx.mode_report(F, ev.phi, ev.lam, *ev.moments(F))
        ctx.save_table("modes", _mode_metrics(rep, ctx))
        for i, v in enumerate(lam_n):
            ctx.log_metric(f"lam_nystrom_{i + 1}", v)
        return Result()
