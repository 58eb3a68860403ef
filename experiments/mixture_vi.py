"""Variational Inference with Mixtures of Isotropic Gaussians (Petit-Talamon, Lambert, Korba, NeurIPS 2025).

E1 closed form (N = 1, Gaussian target), E2 the 2-D mixture of Fig. 1, E3 d = 20 (Fig. 2) and time
per iteration vs d (Fig. 3), E4 Bayesian logistic regression (Fig. 4), E5 funnel and unbalanced
bimodal targets (Fig. 6, 8).  Every target except the two sklearn posteriors is synthetic.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from methods.mixture_vi.fit import CRN, FullMixture, IsoMixture
from methods.mixture_vi.plots import limits, new_figure, plot_density_2d
from runner.paper import Claim, ReportWriter, RunSet, fmt_mean_se

TITLE = "Variational Inference with Mixtures of Isotropic Gaussians"
SUMMARY = ("Uniform-weight mixtures of isotropic Gaussians, GD on the means and IBW or entropic mirror "
           "descent (MD) on the variances, against shared-variance, GD, NGD, full-covariance BW, "
           "RealNVP, ADVI and HMC baselines. All targets are synthetic (generated with a fixed seed) "
           "except the Bayesian logistic posteriors on scikit-learn's breast_cancer and wine (real). "
           "Thresholds marked 'proposed' in the spec are the spec's, not tuned to the measurements.")
EXPERIMENTS = ["e1_closed_form", "e2_mog2d", "e2_flow", "e3_highdim", "e3_timing", "e4_blr",
               "e4_reference", "e5_funnel", "e5_bimodal"]
LABELS = {"ibw": "IBW", "md": "MD", "ibw_s": "IBW-s", "md_s": "MD-s", "mvi_gd": "GD", "mvi_ngd": "NGD",
          "mvi_bw": "BW (full)", "mvi_bw_small_lr": "BW (full), lr=1e-3", "mvi_flow": "RealNVP", "mvi_hmc": "HMC", "mvi_advi": "ADVI"}
NAN = math.nan


# -- helpers ---------------------------------------------------------------------------------------

def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(NAN, index=df.index)


def _pick(df: pd.DataFrame, **eq) -> pd.DataFrame:
    for k, v in eq.items():
        if len(df) == 0 or k not in df.columns:
            return df.iloc[0:0]
        df = df[df[k] == v]
    return df


def _median(df: pd.DataFrame, metric: str, **eq) -> float:
    s = _col(_pick(df, **eq), metric).dropna()
    return float(s.median()) if len(s) else NAN


def _mean(df: pd.DataFrame, metric: str, **eq) -> float:
    s = _col(_pick(df, **eq), metric).dropna()
    return float(s.mean()) if len(s) else NAN


def _ok(x: float, cond) -> bool:
    return bool(np.isfinite(x) and cond(x))


def _summary_table(df: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    rows = []
    if len(df) == 0:
        return pd.DataFrame(columns=keys + ["seeds"] + metrics)
    for cell, sub in df.groupby(keys, sort=True):
        cell = cell if isinstance(cell, tuple) else (cell,)
        row = dict(zip(keys, cell))
        if "method" in row:
            row["method"] = LABELS.get(row["method"], row["method"])
        row["seeds"] = len(sub)
        for m in metrics:
            row[m] = fmt_mean_se(_col(sub, m))
        rows.append(row)
    return pd.DataFrame(rows)


def _target(run_dir: str):
    """Rebuild a run's target from its resolved config."""
    from hydra.utils import instantiate

    cfg = RunSet.config(run_dir)["dataset"]
    cfg.pop("name", None)
    return instantiate(cfg).target


def _family(run_dir: str):
    """Rebuild the final mixture of a run from its ``params`` table."""
    p = RunSet.table(run_dir, "params")
    d = sum(c.startswith("m") and c[1:].isdigit() for c in p.columns)
    means = p[[f"m{i}" for i in range(d)]].to_numpy()
    if "c0_0" not in p.columns:
        return IsoMixture(means, p["eps"].to_numpy())
    cov = np.zeros((len(p), d, d))
    for i in range(d):
        for j in range(i, d):
            cov[:, i, j] = cov[:, j, i] = p[f"c{i}_{j}"].to_numpy()
    return FullMixture(means, cov)


def _median_trace(run_dirs, column: str) -> pd.DataFrame:
    traces = [RunSet.table(r, "trace")[["iteration", column]] for r in run_dirs]
    if not traces:
        return pd.DataFrame(columns=["iteration", column])
    return pd.concat(traces).groupby("iteration", as_index=False)[column].median()


# -- E1 --------------------------------------------------------------------------------------------

def _e1(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e1_closed_form")
    exact = df[_col(df, "method.exact_grad").astype(str).str.lower() == "true"]
    mc = df[_col(df, "method.exact_grad").astype(str).str.lower() == "false"]
    if len(df):
        df = df.assign(mode=np.where(_col(df, "method.exact_grad").astype(str).str.lower() == "true",
                                     "exact", "Monte Carlo (B=100)"))
    out.table("e1_closed_form", _summary_table(df, ["method", "mode"],
                                               ["eps_rel_err", "mean_err", "eps_rel_err_avg", "mean_err_avg"]),
              caption="E1 (synthetic N(μ, diag σ²), d = 10, N = 1): relative error of ε against "
                      "ε* = d / tr Σ⁻¹ and distance of the mean to μ; '_avg' = average of the last 20% iterates.")
    e_eps = float(_col(exact, "eps_rel_err").max()) if len(exact) else NAN
    e_mean = float(_col(exact, "mean_err").max()) if len(exact) else NAN
    m_eps = float(_col(mc, "eps_rel_err_avg").max()) if len(mc) else NAN
    m_mean = float((_col(mc, "mean_err_avg") / np.sqrt(_col(mc, "eps_star"))).max()) if len(mc) else NAN
    return [
        Claim("E1-exact-eps", "IBW/MD with exact expectations reach eps* = d/tr(Sigma^-1) (max rel. error)",
              "e1_closed_form", e_eps, "< 1e-6", _ok(e_eps, lambda v: v < 1e-6)),
        Claim("E1-exact-mean", "IBW/MD with exact expectations reach m* = mu (max |m - mu|)",
              "e1_closed_form", e_mean, "< 1e-6", _ok(e_mean, lambda v: v < 1e-6)),
        Claim("E1-mc-eps", "Monte Carlo IBW/MD (B=100), last-20% average within 3% of eps*",
              "e1_closed_form", m_eps, "< 0.03", _ok(m_eps, lambda v: v < 0.03)),
        Claim("E1-mc-mean", "Monte Carlo IBW/MD, last-20% average |m - mu| / sqrt(eps*)",
              "e1_closed_form", m_mean, "< 0.05", _ok(m_mean, lambda v: v < 0.05)),
    ]


# -- E2 --------------------------------------------------------------------------------------------

def _e2(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e2_mog2d")
    flow = runs.experiment("e2_flow")
    n_col = "method.n_components"
    table = _summary_table(df, ["method", n_col], ["kl", "time/per_iter", "n_params"])
    if len(flow):
        table = pd.concat([table, _summary_table(flow, ["method"], ["kl", "time/per_iter", "n_params"])]).fillna("–")
    out.table("e2_mog2d", table, caption="E2 (Fig. 1; synthetic 2-D mixture of 5 Gaussians): final "
              "KL(q‖π) (true KL, MC with 1000 common random numbers), time per iteration (s), parameters.")
    _e2_figures(df, flow, out)
    ns = sorted(_col(df, n_col).dropna().unique())
    claims = []
    for m in ("ibw", "md"):
        kls = [_median(df, "kl", method=m, **{n_col: n}) for n in ns if n in (1, 5, 20)]
        worst = max(np.diff(kls)) if len(kls) > 1 else NAN
        claims.append(Claim(f"E2-a-mono-{m}", f"{LABELS[m]}: median final KL non-increasing in N over {{1,5,20}} "
                            "(largest increase between consecutive N)", "e2_mog2d", worst, "<= 0",
                            _ok(worst, lambda v: v <= 0)))
        ratio = _median(df, "kl", method=m, **{n_col: 20}) / _median(df, "kl", method=m, **{n_col: 1})
        claims.append(Claim(f"E2-a-ratio-{m}", f"{LABELS[m]}: KL(N=20) / KL(N=1) (medians)", "e2_mog2d",
                            ratio, "<= 0.5", _ok(ratio, lambda v: v <= 0.5)))
    ours = max(_median(df, "kl", method=m, **{n_col: 20}) for m in ("ibw", "md"))
    base = min(_median(df, "kl", method=m, **{n_col: 20}) for m in ("ibw_s", "md_s", "mvi_gd"))
    claims.append(Claim("E2-b", "N=20: max(KL IBW, KL MD) - min(KL IBW-s, MD-s, GD) (medians)", "e2_mog2d",
                        ours - base, "< 0", _ok(ours - base, lambda v: v < 0)))
    pos = _pick(df[df["method"].isin(["ibw", "md"])] if len(df) else df)
    min_eps = float(_col(pos, "min_eps").min()) if len(pos) else NAN
    claims.append(Claim("E2-c", "IBW/MD: smallest variance over all iterations and runs (positivity)",
                        "e2_mog2d", min_eps, "> 0", _ok(min_eps, lambda v: v > 0)))
    return claims


def _e2_figures(df: pd.DataFrame, flow: pd.DataFrame, out: ReportWriter) -> None:
    if len(df) == 0:
        return
    n_col = "method.n_components"
    ns = sorted(df[n_col].unique())
    fig, axes = new_figure(ncols=len(ns), size=(3.6, 3.0))
    for ax, n in zip(axes[0], ns):
        for m in ["ibw", "md", "ibw_s", "md_s", "mvi_gd", "mvi_ngd", "mvi_bw"] + (["mvi_flow"] if n == ns[-1] else []):
            sub = flow if m == "mvi_flow" else _pick(df, method=m, **{n_col: n})
            if len(sub):
                tr = _median_trace(sub["run_dir"], "kl")
                ax.plot(tr["iteration"], np.maximum(tr["kl"], 1e-3), label=LABELS[m],
                        ls="--" if m in ("mvi_bw", "mvi_flow") else "-")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(f"N = {int(n)}", fontsize=9)
    axes[0, 0].set_ylabel("KL(q‖π) (median over seeds, floored at 1e-3)")
    axes[0, -1].legend(fontsize=6)
    out.figure("e2_kl_curves", fig, caption="E2: KL curves per method and number of components N "
               "(RealNVP, which has no N, is drawn in the last panel).")
    n_show = 10 if 10 in ns else ns[-1]
    show = [m for m in ("mvi_bw", "ibw", "md", "mvi_gd") if len(_pick(df, method=m, **{n_col: n_show}))]
    if not show:
        return
    fig, axes = new_figure(ncols=len(show), size=(3.4, 3.2))
    first = _pick(df, method=show[0], **{n_col: n_show}).sort_values("seed").iloc[0]
    target = _target(first["run_dir"])
    lim = limits(target.sample(5000, np.random.default_rng(0)))
    for ax, m in zip(axes[0], show):
        row = _pick(df, method=m, **{n_col: n_show}).sort_values("seed").iloc[0]
        fam = _family(row["run_dir"])
        iso = m != "mvi_bw"
        plot_density_2d(ax, target, fam.log_q, fam.means, fam.eps if iso else None, lim,
                        title=f"{LABELS[m]}, N = {n_show}, KL = {row['kl']:.3f}")
    out.figure("e2_densities", fig, caption="E2: target density (blue) and fitted mixture (black contours); "
               "red circles have radius √ε_j around the isotropic components' means (seed 0).")


# -- E3 --------------------------------------------------------------------------------------------

def _e3(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e3_highdim")
    out.table("e3_highdim", _summary_table(df, ["method"], ["kl_init", "kl", "stopped_early", "n_iter_done",
                                                             "time/per_iter", "n_params"]),
              caption="E3 (i) (Fig. 2; synthetic 20-D mixture of 10 Gaussians, N = 20): initial and final KL, "
                      "early stops (NGD negative variance or BW divergence; the KL is then the last finite "
                      "one), iterations done, time per iteration (s), parameters.")
    claims = []
    bw = _pick(df, method="mvi_bw")
    bw_ok = bw[_col(bw, "stopped_early") == 0]
    gap = max(_mean(df, "kl", method=m) for m in ("ibw", "md")) - _mean(bw_ok, "kl")
    if len(bw) and not len(bw_ok):
        # a diverged BW gives no KL to compare with: not a pass by default
        claims.append(Claim("E3-a-vs-bw", "d=20: max(KL IBW, KL MD) - KL BW (means over seeds; BW runs that "
                            "diverged are excluded)", "e3_highdim", f"BW diverged in {len(bw)}/{len(bw)} seeds",
                            "<= 0.5 nat", False))
    else:
        claims.append(Claim("E3-a-vs-bw", "d=20: max(KL IBW, KL MD) - KL BW (means over seeds; BW runs that "
                            f"diverged are excluded: {len(bw) - len(bw_ok)}/{len(bw)})", "e3_highdim", gap,
                            "<= 0.5 nat", _ok(gap, lambda v: v <= 0.5)))
    ratio = max(_mean(df, "kl", method=m) / _mean(df, "kl_init", method=m) for m in ("ibw", "md"))
    claims.append(Claim("E3-a-decrease", "d=20: final KL / initial KL, worst of IBW and MD", "e3_highdim",
                        ratio, "<= 0.1", _ok(ratio, lambda v: v <= 0.1)))
    _e3_marginals(df, out)

    tm = runs.experiment("e3_timing")
    d_col = "dataset.d"
    rows = []
    for d in sorted(_col(tm, d_col).dropna().unique()):
        t_ibw, t_bw = _median(tm, "time/per_iter", method="ibw", **{d_col: d}), _median(tm, "time/per_iter", method="mvi_bw", **{d_col: d})
        rows.append({"d": int(d), "IBW s/iter": t_ibw, "BW s/iter": t_bw, "BW / IBW": t_bw / t_ibw,
                     "KL IBW": _median(tm, "kl", method="ibw", **{d_col: d}),
                     "KL BW": _median(tm, "kl", method="mvi_bw", **{d_col: d}),
                     "params IBW": _median(tm, "n_params", method="ibw", **{d_col: d}),
                     "params BW": _median(tm, "n_params", method="mvi_bw", **{d_col: d})})
    timing = pd.DataFrame(rows)
    out.table("e3_timing", timing, caption="E3 (ii) (Fig. 3; synthetic mixtures, N = 15): median time per "
              "iteration, KL after the run and parameter counts vs d. Times were measured on a shared, loaded "
              "2-core machine.")
    if len(timing):
        fig, axes = new_figure(ncols=2)
        ax = axes[0, 0]
        ax.loglog(timing["d"], timing["IBW s/iter"], "o-", label="IBW")
        ax.loglog(timing["d"], timing["BW s/iter"], "s--", label="BW (full)")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("time per iteration (s)")
        ax.legend()
        ax.set_title("time per iteration vs d (N = 15)", fontsize=9)
        ax = axes[0, 1]
        ax.plot(timing["d"], timing["KL IBW"], "o-", label="IBW")
        ax.plot(timing["d"], timing["KL BW"], "s--", label="BW (full)")
        ax.set_xscale("log")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("final KL(q‖π)")
        ax.legend()
        ax.set_title("KL after the timed run", fontsize=9)
        out.figure("e3_timing", fig, caption="E3 (ii): time per iteration (log-log) and KL vs d.")
    r = timing["BW / IBW"].to_numpy() if len(timing) else np.array([])
    incr = float(np.min(np.diff(r))) if len(r) > 1 else NAN
    claims.append(Claim("E3-b-increasing", "time/iter BW / IBW increases with d (smallest step between "
                        "consecutive d)", "e3_timing", incr, "> 0", _ok(incr, lambda v: v > 0)))
    at100 = float(timing.loc[timing["d"] == 100, "BW / IBW"].iloc[0]) if len(timing) and (timing["d"] == 100).any() else NAN
    claims.append(Claim("E3-b-ratio100", "time/iter BW / IBW at d = 100", "e3_timing", at100, "> 2",
                        _ok(at100, lambda v: v > 2)))
    return claims


def _e3_marginals(df: pd.DataFrame, out: ReportWriter) -> None:
    if len(df) == 0:
        return
    df = df[_col(df, "stopped_early") == 0]          # a diverged run has nothing to show
    show = [m for m in ("ibw", "md", "mvi_bw", "mvi_bw_small_lr", "mvi_ngd") if len(_pick(df, method=m))]
    if not show:
        return
    target = _target(_pick(df, method=show[0]).iloc[0]["run_dir"])
    k = min(10, target.dim)
    rng = np.random.default_rng(0)
    ref = target.sample(4000, rng)
    fig, axes = new_figure(ncols=k, nrows=len(show), size=(1.9, 1.7))
    for row_ax, m in zip(axes, show):
        run = _pick(df, method=m).sort_values("seed").iloc[0]
        fam = _family(run["run_dir"])
        crn = CRN.draw(len(fam.means), 4000, target.dim, rng)
        q = fam.sample(crn.idx, crn.noise)
        for i, ax in enumerate(row_ax[:k]):
            bins = np.linspace(min(ref[:, i].min(), q[:, i].min()), max(ref[:, i].max(), q[:, i].max()), 40)
            ax.hist(ref[:, i], bins=bins, density=True, alpha=0.4, label="target")
            ax.hist(q[:, i], bins=bins, density=True, histtype="step", color="k", label=LABELS[m])
            ax.set_yticks([])
            ax.set_xlabel(f"$x_{{{i + 1}}}$", fontsize=7)
            ax.tick_params(labelsize=6)
        row_ax[0].set_ylabel(LABELS[m], fontsize=8)
    axes[0, 0].legend(fontsize=5)
    out.figure("e3_marginals", fig, caption="E3 (i): first 10 marginals of the fitted mixture (black) vs the "
               "d = 20 target (shaded), first seed that did not diverge.")


# -- E4 --------------------------------------------------------------------------------------------

def _e4(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e4_blr")
    ref = runs.experiment("e4_reference")
    n_col = "method.n_components"
    table = _summary_table(df, ["dataset", "method", n_col], ["test_accuracy", "test_loglik", "neg_elbo_init",
                                                              "neg_elbo", "stopped_early", "time/per_iter"])
    if len(ref):
        table = pd.concat([table, _summary_table(ref, ["dataset", "method"],
                                                 ["test_accuracy", "test_loglik", "neg_elbo", "accept_rate",
                                                  "max_rhat", "time/per_iter"])]).fillna("–")
    out.table("e4_blr", table, caption="E4 (Fig. 4; real data: sklearn breast_cancer, wine): BMA test accuracy "
              "and mean test log predictive density over 1000 samples; negative ELBO (KL up to log Z).")
    _e4_figure(df, ref, out)
    n_main = max(_col(df, n_col).dropna().unique(), default=NAN)
    ours = ("ibw", "md")
    acc_b = min(_mean(df, "test_accuracy", method=m, dataset="mvi_blr_breast", **{n_col: n_main}) for m in ours)
    hmc_b = _mean(ref, "test_accuracy", method="mvi_hmc", dataset="mvi_blr_breast")
    gap = max(abs(_mean(df, "test_accuracy", method=m, dataset="mvi_blr_breast", **{n_col: n_main}) - hmc_b)
              for m in ours)
    acc_w = min(_mean(df, "test_accuracy", method=m, dataset="mvi_blr_wine", **{n_col: n_main}) for m in ours)
    dec = (_col(df, "neg_elbo_init") - _col(df, "neg_elbo")) / _col(df, "neg_elbo_init").abs()
    dec_min = float(dec.min()) if len(df) else NAN
    metric_cols = [c for c in ("neg_elbo", "test_accuracy", "test_loglik") if c in df.columns]
    bad = float((~np.isfinite(df[metric_cols].to_numpy(float))).sum() + _col(df, "stopped_early").fillna(0).sum()
                + (runs.frame["status"].ne("completed") & runs.frame["experiment"].eq("e4_blr")).sum()) \
        if len(df) else NAN
    n_lbl = f"N={int(n_main)}" if np.isfinite(n_main) else "N=?"
    return [
        Claim("E4-breast-acc", f"breast_cancer: test accuracy, worst of IBW and MD ({n_lbl})", "e4_blr",
              acc_b, ">= 0.93", _ok(acc_b, lambda v: v >= 0.93)),
        Claim("E4-breast-hmc", f"breast_cancer: |accuracy - HMC accuracy|, worst of IBW and MD ({n_lbl})",
              "e4_blr+e4_reference", gap, "<= 0.03", _ok(gap, lambda v: v <= 0.03)),
        Claim("E4-wine-acc", f"wine: test accuracy, worst of IBW and MD ({n_lbl})", "e4_blr", acc_w, ">= 0.93",
              _ok(acc_w, lambda v: v >= 0.93)),
        Claim("E4-elbo", "negative ELBO relative decrease from init, worst run", "e4_blr", dec_min, "> 0.5",
              _ok(dec_min, lambda v: v > 0.5)),
        Claim("E4-finite", "non-finite metrics + early stops + failed runs", "e4_blr", bad, "== 0",
              _ok(bad, lambda v: v == 0)),
    ]


def _e4_figure(df: pd.DataFrame, ref: pd.DataFrame, out: ReportWriter) -> None:
    if len(df) == 0:
        return
    n_col = "method.n_components"
    datasets = [d for d in ("mvi_blr_breast", "mvi_blr_wine") if len(_pick(df, dataset=d))]
    fig, axes = new_figure(ncols=len(datasets))
    for ax, ds in zip(axes[0], datasets):
        for m in ("ibw", "md"):
            for n in sorted(_pick(df, dataset=ds, method=m)[n_col].unique()):
                sub = _pick(df, dataset=ds, method=m, **{n_col: n})
                tr = _median_trace(sub["run_dir"], "test_accuracy")
                ax.plot(tr["iteration"], tr["test_accuracy"], ls="-" if m == "ibw" else "--",
                        label=f"{LABELS[m]} N={int(n)}")
        for m, color in (("mvi_hmc", "k"), ("mvi_advi", "tab:red")):
            acc = _mean(ref, "test_accuracy", method=m, dataset=ds)
            if np.isfinite(acc):
                ax.axhline(acc, color=color, lw=1, ls=":", label=LABELS[m])
        ax.set_xlabel("iteration")
        ax.set_ylabel("test accuracy (BMA, 1000 samples)")
        ax.set_title(ds.replace("mvi_blr_", ""), fontsize=9)
        ax.set_ylim(0.5, 1.0)
        ax.legend(fontsize=6)
    out.figure("e4_accuracy", fig, caption="E4: test accuracy vs iteration (median over seeds); HMC and ADVI "
               "as horizontal reference lines.")


# -- E5 --------------------------------------------------------------------------------------------

def _e5(runs: RunSet, out: ReportWriter) -> list[Claim]:
    fn = runs.experiment("e5_funnel")
    n_col = "method.n_components"
    out.table("e5_funnel", _summary_table(fn, ["dataset", "method", n_col], ["kl", "stopped_early", "md_clipped"]),
              caption="E5 (Fig. 6; synthetic funnel, sinh-arcsinh at scale=paper): final KL(q‖π) (true KL).")
    n_big = max(_col(fn, n_col).dropna().unique(), default=NAN)
    show = [m for m in ("ibw", "md", "mvi_bw") if len(_pick(fn, method=m, dataset="mvi_funnel", **{n_col: n_big}))]
    if show:
        fig, axes = new_figure(ncols=len(show), size=(3.4, 3.2))
        target = _target(_pick(fn, dataset="mvi_funnel").iloc[0]["run_dir"])
        lim = limits(target.sample(5000, np.random.default_rng(0)))
        for ax, m in zip(axes[0], show):
            row = _pick(fn, method=m, dataset="mvi_funnel", **{n_col: n_big}).sort_values("seed").iloc[0]
            fam = _family(row["run_dir"])
            plot_density_2d(ax, target, fam.log_q, fam.means, None if m == "mvi_bw" else fam.eps, lim,
                            title=f"{LABELS[m]}, N = {int(n_big)}, KL = {row['kl']:.3f}")
        out.figure("e5_funnel", fig, caption="E5: funnel target and fitted mixtures (seed 0).")
    diff = (_mean(fn, "kl", method="mvi_bw", dataset="mvi_funnel", **{n_col: 20})
            - _mean(fn, "kl", method="ibw", dataset="mvi_funnel", **{n_col: 20}))

    bm = runs.experiment("e5_bimodal")
    out.table("e5_bimodal", _summary_table(bm, [n_col], ["cluster_e1", "cluster_e2", "kl"]),
              caption="E5 (Fig. 8; synthetic unbalanced bimodal target, p = 0.1): K-means (K = 2, 10,000 samples) "
                      "centre error E1 and weight error E2 of IBW, mean ± s.e. over repetitions.")
    if len(bm):
        fig, axes = new_figure(ncols=2)
        for ax, col, name in ((axes[0, 0], "cluster_e1", "E1: centre distance"),
                              (axes[0, 1], "cluster_e2", "E2: |weight difference|")):
            g = bm.groupby(n_col)[col]
            ax.errorbar(g.mean().index, g.mean().values, yerr=g.sem().fillna(0).values, marker="o")
            ax.set_xscale("log")
            ax.set_xlabel("number of components N")
            ax.set_ylabel(name)
        out.figure("e5_bimodal", fig, caption="E5: cluster errors vs N on the unbalanced bimodal target (IBW).")
    ns = sorted(_col(bm, n_col).dropna().unique())
    e2_hi = _mean(bm, "cluster_e2", **{n_col: ns[-1]}) if ns else NAN
    e2_lo = _mean(bm, "cluster_e2", **{n_col: ns[0]}) if ns else NAN
    return [
        Claim("E5-funnel", "funnel, N=20: KL(BW) - KL(IBW) (the paper's negative result: BW better)",
              "e5_funnel", diff, "< 0", _ok(diff, lambda v: v < 0)),
        Claim("E5-bimodal-trend", f"bimodal: mean E2 at N={int(ns[-1]) if ns else '?'} minus mean E2 at "
              f"N={int(ns[0]) if ns else '?'}", "e5_bimodal", e2_hi - e2_lo, "< 0", _ok(e2_hi - e2_lo, lambda v: v < 0)),
        Claim("E5-bimodal-e2", f"bimodal: mean E2 at N={int(ns[-1]) if ns else '?'}", "e5_bimodal", e2_hi,
              "< 0.05", _ok(e2_hi, lambda v: v < 0.05)),
    ]


def report(runs: RunSet, out: ReportWriter) -> list[Claim]:
    claims = []
    for part in (_e1, _e2, _e3, _e4, _e5):
        claims += part(runs, out)
    return claims
