"""From Kolmogorov to Cauchy: Shallow XNet Surpasses KANs — the paper's tables, figures, claims.

X1 Heaviside (train-grid MSE, the paper's metric), X2 smooth and noisy targets, X3 Poisson and
heat PINNs, X4 PPO on CartPole-v1.  All data is synthetic (generated from formulas; CartPole is
a simulator).  Thresholds are the spec's acceptance criteria (/work/shared/papers/xnet.md §4).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from runner.paper import Claim, ReportWriter, RunSet, fmt_mean_se, mean_se

TITLE = "From Kolmogorov to Cauchy: Shallow XNet Surpasses KANs (NeurIPS 2025)"
SUMMARY = ("All targets are synthetic (formulas; CartPole is a simulator). XNet = one hidden layer "
           "of Cauchy neurons φ(s) = (λ1 s + λ2)/(s² + d²). Budgets at scale=default are below the "
           "spec's (X1/X2: 12k/4k Adam steps instead of 30k; X3: 1.5k Adam + 100 L-BFGS steps, 2 seeds, "
           "instead of 3k + 300, 3 seeds; X4: 30,720 instead of 51,200 environment steps); "
           "scale=paper uses the spec's sizes. Thresholds are the spec's, whatever the scale.")
EXPERIMENTS = ["x1_heaviside", "x2_smooth", "x3_pinn", "x4_ppo"]

# The paper's numbers (third-party transcription of the NeurIPS tables, spec §3), for the tables.
PAPER_X1 = {"xnet": 8.99e-8, "xnet_mlp_relu": 2.05e-3, "xnet_mlp_relu_deep": 6.81e-5, "kan": 5.98e-4,
            "kan_lstsq": 5.98e-4}
PAPER_X3 = {("xnet_poisson", "xnet_mlp_tanh"): (1.7998e-5, 48.9), ("xnet_poisson", "xnet_pinn"): (1.8651e-8, 57.2),
            ("xnet_poisson", "kan_pinn"): (5.743e-8, 286.3), ("xnet_poisson", "xnet_pinn_wide"): (1.0937e-9, 154.8),
            ("xnet_heat", "xnet_mlp_tanh"): (2.4536e-5, 43.8), ("xnet_heat", "xnet_pinn"): (3.8936e-8, 43.5),
            ("xnet_heat", "kan_pinn"): (1.5106e-7, 254.6), ("xnet_heat", "xnet_pinn_wide"): (3.6867e-9, 108.3)}
KAN_LSTSQ_PAPER = 5.98e-4
LABELS = {"xnet": "XNet [d,64,1]", "kan": "KAN [1,1] G=200 (Adam)", "kan_lstsq": "KAN [1,1] G=200 (least squares)",
          "kan_g5": "KAN [d,5,1] G=5", "xnet_mlp_relu": "ReLU MLP [d,64,1]",
          "xnet_mlp_relu_deep": "ReLU MLP [d,64,64,1]", "xnet_pinn": "XNet [2,20,1]",
          "xnet_pinn_wide": "XNet [2,200,1]", "xnet_mlp_tanh": "tanh MLP [2,20,20,1]", "kan_pinn": "KAN [2,10,1] G=5",
          "xnet_ppo": "XNet [4,64,·]", "xnet_mlp_ppo": "tanh MLP [4,64,64,·]", "kan_ppo": "KAN [4,8,·] G=5"}
COLORS = {"xnet": "C0", "xnet_pinn": "C0", "xnet_ppo": "C0", "xnet_pinn_wide": "C4", "kan": "C2", "kan_g5": "C2",
          "kan_pinn": "C2", "kan_ppo": "C2", "kan_lstsq": "C8", "xnet_mlp_relu": "C1", "xnet_mlp_relu_deep": "C3",
          "xnet_mlp_tanh": "C3", "xnet_mlp_ppo": "C3"}


def _median(values) -> float:
    s = pd.Series(values, dtype=float).dropna()
    return float(s.median()) if len(s) else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and math.isfinite(a) and math.isfinite(b) else math.nan


def _figure(n: int, width: float = 4.5, height: float = 3.5):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n, height))
    return fig, fig.subplots(1, n, squeeze=False)[0]


# -- X1 ---------------------------------------------------------------------------------------
def _x1(runs: RunSet, out: ReportWriter) -> list[Claim]:
    x1 = runs.experiment("x1_heaviside")
    if x1.empty:
        return []
    rows = []
    for m in ["xnet", "xnet_mlp_relu", "xnet_mlp_relu_deep", "kan", "kan_lstsq"]:
        sub = x1[x1["method"] == m]
        if sub.empty:
            continue
        rows.append({"model": LABELS[m].replace("d,", "1,"), "params": int(sub["n_params"].iloc[0]), "lr": ", ".join(f"{v:g}" for v in sorted(sub["best_lr"].dropna().unique())) or "–",
                     "seeds": len(sub), "train MSE (median)": f"{_median(sub['train_mse']):.3g}",
                     "train MSE (best)": f"{sub['train_mse'].min():.3g}",
                     "held-out MSE": fmt_mean_se(sub["test_mse"]),
                     "held-out MSE, |x|≥2e-3": fmt_mean_se(sub["test_mse_band"]),
                     "time/step (ms)": fmt_mean_se(1e3 * sub["time/per_step"]),
                     "paper MSE": f"{PAPER_X1[m]:.3g}"})
    out.table("x1_heaviside", pd.DataFrame(rows),
              "X1 (synthetic Heaviside, 1000-point grid on [−1,1]): train-grid MSE is the paper's metric; "
              "held-out = 20,000 uniform points. ReLU rows keep, per seed, the better lr of {1e-2, 1e-3} (lr column: the lrs kept).")
    _x1_figures(x1, out)
    if {"xnet", "xnet_mlp_relu_deep"} <= set(x1["method"]):
        out.text(f"X1 note: the deep ReLU MLP [1,64,64,1] (4353 parameters, 11× XNet's) reaches a median train "
                 f"MSE of {_median(x1.loc[x1['method'] == 'xnet_mlp_relu_deep', 'train_mse']):.3g} against XNet's "
                 f"{_median(x1.loc[x1['method'] == 'xnet', 'train_mse']):.3g} under the same Adam budget "
                 f"(paper: 6.81e-5 vs 8.99e-8). The spec gates XNet only against ReLU [1,64,1] and KAN G=200.")

    def med(m: str, col: str = "train_mse") -> float:
        return _median(x1.loc[x1["method"] == m, col])

    xnet = x1.loc[x1["method"] == "xnet", "train_mse"]
    kan_ls = med("kan_lstsq")
    kan_best = np.nanmin([med("kan"), kan_ls])
    return [
        Claim("X1-a", "KAN G=200 least-squares train MSE reproduces the paper's 5.98e-4 (±2%)", "x1_heaviside",
              kan_ls, "within 2% of 5.98e-4", abs(kan_ls / KAN_LSTSQ_PAPER - 1) <= 0.02),
        Claim("X1-b1", "XNet [1,64,1] best-seed train MSE", "x1_heaviside", float(xnet.min()), "<= 1e-6",
              float(xnet.min()) <= 1e-6),
        Claim("X1-b2", "XNet [1,64,1] median train MSE", "x1_heaviside", med("xnet"), "<= 1e-5", med("xnet") <= 1e-5),
        Claim("X1-c1", "ReLU [1,64,1] / XNet median train MSE ratio", "x1_heaviside",
              _ratio(med("xnet_mlp_relu"), med("xnet")), ">= 100", _ratio(med("xnet_mlp_relu"), med("xnet")) >= 100),
        Claim("X1-c2", "KAN G=200 (better of Adam and least squares) / XNet median train MSE ratio", "x1_heaviside",
              _ratio(kan_best, med("xnet")), ">= 10", _ratio(kan_best, med("xnet")) >= 10),
        Claim("X1-d", "XNet held-out MSE (|x|≥2e-3) / ReLU [1,64,1]'s (medians)", "x1_heaviside",
              _ratio(med("xnet", "test_mse_band"), med("xnet_mlp_relu", "test_mse_band")), "<= 0.1",
              _ratio(med("xnet", "test_mse_band"), med("xnet_mlp_relu", "test_mse_band")) <= 0.1),
    ]


def _x1_figures(x1: pd.DataFrame, out: ReportWriter) -> None:
    fig, (ax_fit, ax_err, ax_loss) = _figure(3)
    for m, sub in x1.groupby("method"):
        row = sub.loc[sub["train_mse"].sub(sub["train_mse"].median()).abs().idxmin()]  # the median seed
        fit = RunSet.table(row["run_dir"], "fit")
        full, zoom = fit[fit["zoom"] == 0], fit[fit["zoom"] == 1]
        label = LABELS[m].replace("d,", "1,")
        ax_fit.plot(full["x"], full["pred"], lw=1, color=COLORS[m], label=label)
        ax_err.semilogy(zoom["x"], np.maximum(np.abs(zoom["pred"] - zoom["y"]), 1e-16), lw=1, color=COLORS[m])
        if m != "kan_lstsq":
            hist = RunSet.table(row["run_dir"], "history")
            ax_loss.loglog(hist["step"] + 1, hist["loss"], lw=1, color=COLORS[m], label=label)
    ax_fit.plot(full["x"], full["y"], "k--", lw=0.8, label="H(x)")
    ax_fit.set(xlabel="x", ylabel="y", title="fits (median seed)")
    ax_fit.legend(fontsize=7)
    ax_err.set(xlabel="x", ylabel="|error|", title="pointwise error near the jump")
    ax_loss.set(xlabel="Adam step", ylabel="train MSE", title="training curves")
    ax_loss.legend(fontsize=7)
    fig.tight_layout()
    out.figure("x1_heaviside", fig, "X1: fits of the Heaviside, pointwise error on [−0.05, 0.05] (log), "
                                    "train MSE vs step (log–log). Synthetic data.")


# -- X2 ---------------------------------------------------------------------------------------
def _x2(runs: RunSet, out: ReportWriter) -> list[Claim]:
    x2 = runs.experiment("x2_smooth")
    if x2.empty:
        return []
    rows = []
    for (ds, m), sub in x2.groupby(["dataset", "method"]):
        rows.append({"target": ds.replace("xnet_", ""), "model": LABELS[m], "params": int(sub["n_params"].iloc[0]),
                     "seeds": len(sub), "train MSE": fmt_mean_se(sub["train_mse"]),
                     "test MSE": fmt_mean_se(sub["test_mse"]),
                     "time/step (ms)": fmt_mean_se(1e3 * sub["time/per_step"])})
    out.table("x2_smooth", pd.DataFrame(rows), "X2 (synthetic targets): f1 = exp(sin πx + y²), "
              "f2 = exp(½(sin π(x1²+x2²) + sin π(x3²+x4²))), heaviside_noisy = Heaviside with N(0, 0.01²) labels.")
    targets = sorted(x2["dataset"].unique())
    fig, axes = _figure(1, 6.5, 3.5)
    methods = ["xnet", "xnet_mlp_relu_deep", "kan_g5"]
    for j, m in enumerate(methods):
        vals = [mean_se(x2.loc[(x2["dataset"] == t) & (x2["method"] == m), "test_mse"]) for t in targets]
        axes[0].bar(np.arange(len(targets)) + 0.27 * (j - 1), [v[0] for v in vals], 0.27,
                    yerr=[v[1] for v in vals], color=COLORS[m], label=LABELS[m])
    axes[0].set_yscale("log")
    axes[0].set_xticks(range(len(targets)), [t.replace("xnet_", "") for t in targets])
    axes[0].set(ylabel="test MSE (mean ± s.e.)", title="X2: smooth and noisy targets")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out.figure("x2_smooth", fig, "X2: test MSE per target and model (log scale). Synthetic data.")
    claims = []
    for t in ("xnet_f1", "xnet_f2"):
        sub = x2[x2["dataset"] == t]
        if sub.empty:
            continue
        xn = mean_se(sub.loc[sub["method"] == "xnet", "test_mse"])[0]
        base = min(mean_se(sub.loc[sub["method"] == m, "test_mse"])[0] for m in methods[1:])
        r = _ratio(xn, base)
        claims.append(Claim(f"X2-{t[5:]}", f"XNet test MSE / better baseline's (MLP, KAN) on {t[5:]}", "x2_smooth",
                            r, "<= 2", r <= 2))
    return claims


# -- X3 ---------------------------------------------------------------------------------------
def _x3(runs: RunSet, out: ReportWriter) -> list[Claim]:
    x3 = runs.experiment("x3_pinn")
    if x3.empty:
        return []
    order = ["xnet_mlp_tanh", "xnet_pinn", "kan_pinn", "xnet_pinn_wide"]
    rows = []
    for ds in ("xnet_poisson", "xnet_heat"):
        for m in order:
            sub = x3[(x3["dataset"] == ds) & (x3["method"] == m)]
            if sub.empty:
                continue
            paper = PAPER_X3[(ds, m)]
            rows.append({"PDE": ds[5:], "model": LABELS[m], "params": int(sub["n_params"].iloc[0]), "seeds": len(sub),
                         "test MSE": fmt_mean_se(sub["test_mse"]), "rel. L2": fmt_mean_se(sub["rel_l2"]),
                         "Adam time/step (ms)": fmt_mean_se(1e3 * sub["time/per_step"]),
                         "train time (s)": fmt_mean_se(sub["time/adam_s"] + sub["time/lbfgs_s"]),
                         "paper MSE": f"{paper[0]:.4g}", "paper time (s)": paper[1]})
    out.table("x3_pinn", pd.DataFrame(rows), "X3 (synthetic PDEs with exact solutions): test MSE on a 101×101 grid; "
              "same Adam (lr 1e-3) then L-BFGS schedule for every model; paper times are the authors' hardware.")
    _x3_figure(x3, order, out)
    claims = []
    for ds in ("xnet_poisson", "xnet_heat"):
        def med(m: str) -> float:
            return _median(x3.loc[(x3["dataset"] == ds) & (x3["method"] == m), "test_mse"])

        wide, small, mlp = med("xnet_pinn_wide"), med("xnet_pinn"), med("xnet_mlp_tanh")
        claims.append(Claim(f"X3-{ds[5:]}-wide", f"{ds[5:]}: XNet [2,200,1] / tanh MLP [2,20,20,1] test MSE", "x3_pinn",
                            _ratio(wide, mlp), "<= 0.1", _ratio(wide, mlp) <= 0.1))
        claims.append(Claim(f"X3-{ds[5:]}-small", f"{ds[5:]}: XNet [2,20,1] / tanh MLP [2,20,20,1] test MSE", "x3_pinn",
                            _ratio(small, mlp), "<= 1", _ratio(small, mlp) <= 1))
    return claims


def _x3_figure(x3: pd.DataFrame, order: list[str], out: ReportWriter) -> None:
    from matplotlib.figure import Figure

    pdes = [d for d in ("xnet_poisson", "xnet_heat") if d in set(x3["dataset"])]
    fig = Figure(figsize=(3.2 * (len(order) + 1), 2.9 * len(pdes)))
    axes = fig.subplots(len(pdes), len(order) + 1, squeeze=False)
    for i, ds in enumerate(pdes):
        sub = x3[x3["dataset"] == ds].sort_values("seed")
        for j, m in enumerate(order):
            ax = axes[i, j + 1]
            runs_m = sub[sub["method"] == m]
            if runs_m.empty:
                ax.set_axis_off()
                continue
            sol = RunSet.table(runs_m["run_dir"].iloc[0], "solution")
            n = int(round(math.sqrt(len(sol))))
            ext = [sol["x"].min(), sol["x"].max(), sol["y"].min(), sol["y"].max()]
            if j == 0:
                im = axes[i, 0].imshow(sol["exact"].to_numpy().reshape(n, n).T, origin="lower", extent=ext, aspect="auto")
                fig.colorbar(im, ax=axes[i, 0])
                axes[i, 0].set(title=f"{ds[5:]}: exact u", xlabel="x", ylabel="y" if ds == "xnet_poisson" else "t")
            err = np.log10(np.maximum(np.abs(sol["pred"] - sol["exact"]).to_numpy(), 1e-16)).reshape(n, n).T
            im = ax.imshow(err, origin="lower", extent=ext, aspect="auto", cmap="magma", vmin=-8, vmax=0)
            fig.colorbar(im, ax=ax)
            ax.set(title=f"log10|err| {LABELS[m]}", xlabel="x")
            ax.title.set_fontsize(8)
    fig.tight_layout()
    out.figure("x3_pinn", fig, "X3: exact solutions and log10 pointwise error of each PINN (first seed).")


# -- X4 ---------------------------------------------------------------------------------------
def _x4(runs: RunSet, out: ReportWriter) -> list[Claim]:
    from methods.xnet.ppo import learning_curve

    x4 = runs.experiment("x4_ppo")
    if x4.empty:
        return []
    order = ["xnet_ppo", "xnet_mlp_ppo", "kan_ppo"]
    rows = []
    fig, axes = _figure(1, 6, 3.8)
    n_bins = 20
    for m in order:
        sub = x4[x4["method"] == m]
        if sub.empty:
            continue
        rows.append({"model": LABELS[m], "params (actor+critic)": int(sub["n_params"].iloc[0]), "seeds": len(sub),
                     "final return (last 20 ep.)": fmt_mean_se(sub["final_return"]),
                     "area under curve": fmt_mean_se(sub["auc_return"]),
                     "time/update (s)": fmt_mean_se(sub["time/per_update"])})
        curves = []
        for _, r in sub.iterrows():
            ep = RunSet.table(r["run_dir"], "episodes")
            curves.append(learning_curve(ep["step"].to_numpy(), ep["return"].to_numpy(), int(r["env_steps"]), n_bins))
        c = np.array(curves)
        steps = (np.arange(n_bins) + 1) * float(sub["env_steps"].iloc[0]) / n_bins
        mean = c.mean(0)
        se = c.std(0, ddof=1) / math.sqrt(len(c)) if len(c) > 1 else np.zeros_like(mean)
        axes[0].plot(steps, mean, color=COLORS[m], label=LABELS[m])
        axes[0].fill_between(steps, mean - se, mean + se, color=COLORS[m], alpha=0.25)
    axes[0].set(xlabel="environment steps", ylabel="episodic return", title="PPO on CartPole-v1 (mean ± s.e. over seeds)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out.table("x4_ppo", pd.DataFrame(rows), "X4: PPO on CartPole-v1 (gymnasium simulator), CleanRL defaults.")
    out.figure("x4_ppo", fig, "X4: PPO learning curves with seed bands (mean return of episodes ending in each bin).")
    xn = mean_se(x4.loc[x4["method"] == "xnet_ppo", "final_return"])[0]
    ml = mean_se(x4.loc[x4["method"] == "xnet_mlp_ppo", "final_return"])[0]
    return [Claim("X4", "XNet / MLP final mean return (last 20 episodes, averaged over seeds)", "x4_ppo",
                  _ratio(xn, ml), ">= 0.8", _ratio(xn, ml) >= 0.8)]


# -- timing -----------------------------------------------------------------------------------
def _timing(runs: RunSet, out: ReportWriter) -> None:
    ok = runs.ok
    if ok.empty:
        return
    rows = []
    for exp, col in (("x1_heaviside", "time/per_step"), ("x3_pinn", "time/per_step"), ("x4_ppo", "time/per_update")):
        sub = ok[(ok["experiment"] == exp) & (ok["method"] != "kan_lstsq")]
        for (ds, m), s in sub.groupby(["dataset", "method"]):
            label = LABELS[m].replace("d,", "1,") if exp == "x1_heaviside" else LABELS[m]
            rows.append({"experiment": exp, "dataset": ds, "model": label, "params": int(s["n_params"].iloc[0]),
                         "unit": "s/PPO update" if col == "time/per_update" else "ms/step",
                         "time": fmt_mean_se(s[col] * (1 if col == "time/per_update" else 1e3))})
    if rows:
        out.table("timing", pd.DataFrame(rows), "Time per training step (one torch thread per run; measured on a "
                  "shared machine, so absolute numbers are inflated by load). `make bench` compares at matched "
                  "parameter counts.")


def report(runs: RunSet, out: ReportWriter) -> list[Claim]:
    claims = _x1(runs, out) + _x2(runs, out) + _x3(runs, out) + _x4(runs, out)
    _timing(runs, out)
    return claims
