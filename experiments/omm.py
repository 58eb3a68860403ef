"""Paper module: "Revisiting the Orbital Minimization Method for Neural Operator Decomposition"
(Ryu, Zhou, Wornell, NeurIPS 2025).

Claims are the acceptance criteria of the CPU reproduction plan (spec /work/shared/papers/omm.md,
section 4, E1-E4, plus one row for the optional, non-gating E5); thresholds come from the spec.
Operators are synthetic (random PSD matrices, the Gaussian-kernel operator, grid worlds, the 2-D
hydrogen operator on generated samples) except the digits kNN graph (real, sklearn's digits).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from runner.paper import Claim, ReportWriter, RunSet, fmt_mean_se

TITLE = "Revisiting the Orbital Minimization Method for Neural Operator Decomposition (Ryu, Zhou, Wornell 2025)"
SUMMARY = (
    "OMM learns the top-k eigenfunctions of a PSD operator by minimising "
    "-2 tr M[f,Tf] + tr(M[f] M[f,Tf]) (OMM-1; OMM-p and the mixed 1+2 variant), with sequential or "
    "joint nesting (stop-gradient patterns) for ordered eigenfunctions and a Sanger variant; "
    "baselines are LoRA/NeuralSVD (with and without nesting) and exact eigensolvers. Checks: "
    "matrices (E1, synthetic), the Gaussian-kernel integral operator with its closed-form spectrum "
    "(E2, synthetic samples), grid-world random-walk operators (E3, synthetic layouts) and the 10-NN "
    "graph of sklearn's digits (E4, real). The paper's RL, PDE, SSL and ogbn-products experiments "
    "are replaced by these CPU-sized analogues (spec section 4); E5 (optional, not a gate) is a small "
    "2-D hydrogen run (synthetic samples, finite-difference Laplacian, importance-sampling transform).")
EXPERIMENTS = ["e1_matrix_full", "e1_matrix_stream", "e1_nonpsd", "e2_kernel", "e3_gridworld",
               "e4_digits_graph", "e5_hydrogen"]

NAN = math.nan
OBJ = "method.objective"


def _value(df: pd.DataFrame, col: str, how: str = "max", **where) -> float:
    """Aggregate ``col`` over the rows matching ``where`` (NaN when none)."""
    if not len(df) or col not in df.columns:
        return NAN
    mask = pd.Series(True, index=df.index)
    for key, val in where.items():
        key = key.replace("__", ".")
        if key not in df.columns:
            return NAN
        mask &= df[key].isin(val if isinstance(val, (list, tuple)) else [val])
    s = df.loc[mask, col].astype(float)
    if s.empty:
        return NAN
    if how == "max":
        return float(s.max()) if s.notna().all() else NAN
    if how == "min":
        return float(s.min()) if s.notna().all() else NAN
    return float(s.mean())


def _claim(cid, text, exp, measured, threshold, ok) -> Claim:
    return Claim(cid, text, exp, measured, threshold, bool(not math.isnan(measured) and ok(measured)))


def _cols(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[[c for c in cols if c in df.columns]].reset_index(drop=True)


def _fig(nrows=1, ncols=1, w=5.0, h=3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w * ncols, h * nrows), constrained_layout=True)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _table(run_dir, name: str) -> pd.DataFrame | None:
    """A run's table ``name``, or ``None`` when the run did not write it."""
    try:
        return RunSet.table(run_dir, name)
    except (OSError, ValueError):
        return None


def _curves(ax, df: pd.DataFrame, label_cols: list[str], y: str, logy=True, floor=1e-16):
    for _, row in df.iterrows():
        tr = _table(row["run_dir"], "trace")
        if tr is None or y not in tr.columns:
            continue
        vals = tr[y].astype(float)
        ax.plot(tr["step"], np.maximum(vals, floor) if logy else vals,
                label=" / ".join(str(row[c]) for c in label_cols if c in row))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(y)


# ------------------------------------------------------------------------------------ E1
def report_e1(runs: RunSet, out: ReportWriter) -> list[Claim]:
    full = runs.experiment("e1_matrix_full")
    stream = runs.experiment("e1_matrix_stream")
    neg = runs.experiment("e1_nonpsd")
    cols = ["dataset", OBJ, "subspace_dist", "min_cos", "mean_cos", "loss_gap", "orth_err",
            "norm_err_unit", "norm_err_lambda", "diverged"]
    if len(full):
        out.table("e1_matrix_full", _cols(full.sort_values(["dataset", OBJ]), cols),
                  caption="E1, full-batch gradient descent on V (synthetic A, d = 200, k = 10): subspace "
                          "distance, aligned |cos| per column (min / mean), loss_gap = the run's own objective "
                          "minus its minimum (OMM-1, OMM-2, OMM-1 + OMM-2; L^(1) for the nested and LoRA runs), "
                          "||V^T V - I||_F, max_i | ||v_i||^2 - 1 | and max_i | ||v_i||^2 - lambda_i | / lambda_i.")
        g = full[full["dataset"] == "omm_psd_gapped"]
        fig, ax = _fig(1, 2)
        _curves(ax[0, 0], g, [OBJ], "loss_gap")
        ax[0, 0].set_title("E1 gapped: L^(1)(V) + sum_{i<=k} lambda_i")
        _curves(ax[0, 1], g, [OBJ], "subspace_dist")
        ax[0, 1].set_title("E1 gapped: subspace distance")
        ax[0, 1].legend(fontsize=7)
        out.figure("e1_convergence", fig, caption="E1: convergence of each objective (full-batch GD, synthetic A).")
    if len(stream):
        out.table("e1_matrix_stream", _cols(stream.sort_values(OBJ), cols),
                  caption="E1, streaming Adam (x ~ N(0, A), B = 64, synthetic A).")
    if len(neg):
        out.table("e1_nonpsd", _cols(neg.sort_values(["method.shift", "method.init_bottom"]),
                                     ["method.shift", "method.init_bottom", "diverged", "diverged_step",
                                      "max_col_norm", "subspace_dist", "loss_gap"]),
                  caption="E1, non-PSD A (one eigenvalue -0.5): OMM-1 without / with the shift kappa = 0.5; "
                          "init_bottom 0 is the spec's N(0, 1/d) init, 1.5 adds 1.5 w_neg to column 1 (beyond "
                          "the barrier at |c| = 1 of v = c w_neg). Divergence = a column norm above 1e3.")
    ds = "omm_psd_gapped"
    both = ["omm_psd_gapped", "omm_psd_degenerate"]
    nonpsd_norm = _value(neg, "max_col_norm", "max", method__shift=0.0, method__init_bottom=0.0)
    return [
        _claim("E1-omm1-subspace", "full-batch OMM-1 reaches the top-k subspace (both spectra)", "e1_matrix_full",
               _value(full, "subspace_dist", dataset=both, method__objective="omm"), "< 1e-8", lambda v: v < 1e-8),
        _claim("E1-omm2-subspace", "full-batch OMM-2 reaches the top-k subspace (both spectra)", "e1_matrix_full",
               _value(full, "subspace_dist", dataset=both, method__objective="omm2"), "< 1e-8", lambda v: v < 1e-8),
        _claim("E1-omm-loss", "OMM-1/OMM-2 final loss (own objective) within 1e-8 of -sum_{i<=k} lambda_i",
               "e1_matrix_full",
               _value(full, "loss_gap", dataset=both, method__objective=["omm", "omm2"]), "< 1e-8",
               lambda v: abs(v) < 1e-8),
        _claim("E1-seq-ordered", "OMM_seq: min_i |cos(v_i, w_i)| on the gapped spectrum", "e1_matrix_full",
               _value(full, "min_cos", "min", dataset=ds, method__objective="omm_seq"), "> 0.9999",
               lambda v: v > 0.9999),
        _claim("E1-jnt-ordered", "OMM_jnt: min_i |cos(v_i, w_i)| on the gapped spectrum", "e1_matrix_full",
               _value(full, "min_cos", "min", dataset=ds, method__objective="omm_jnt"), "> 0.9999",
               lambda v: v > 0.9999),
        _claim("E1-lora-norms", "LoRA_seq columns have ||v_i||^2 = lambda_i (max rel. error)", "e1_matrix_full",
               _value(full, "norm_err_lambda", dataset=ds, method__objective="lora_seq"), "< 1e-6",
               lambda v: v < 1e-6),
        _claim("E1-omm-norms", "OMM columns have ||v_i|| = 1 (max | ||v_i||^2 - 1 |, OMM-1/seq/jnt)", "e1_matrix_full",
               _value(full, "norm_err_unit", dataset=ds, method__objective=["omm", "omm_seq", "omm_jnt"]),
               "< 1e-6", lambda v: v < 1e-6),
        _claim("E1-stream-seq", "streaming OMM_seq subspace distance", "e1_matrix_stream",
               _value(stream, "subspace_dist", method__objective="omm_seq"), "< 0.02", lambda v: v < 0.02),
        _claim("E1-stream-sanger", "streaming Sanger subspace distance", "e1_matrix_stream",
               _value(stream, "subspace_dist", method__objective="sanger"), "< 0.02", lambda v: v < 0.02),
        _claim("E1-nonpsd-diverges", "non-PSD A: OMM-1 from the N(0,1/d) init, max column norm within 1e4 steps",
               "e1_nonpsd", nonpsd_norm, "> 1e3", lambda v: v > 1e3),
        _claim("E1-nonpsd-diverges-beyond-barrier", "[added] non-PSD A: OMM-1 from an init beyond the barrier "
               "(+1.5 w_neg), max column norm within 1e4 steps", "e1_nonpsd",
               _value(neg, "max_col_norm", "max", method__shift=0.0, method__init_bottom=1.5), "> 1e3",
               lambda v: v > 1e3),
        _claim("E1-nonpsd-shift", "non-PSD A with shift kappa = 0.5: OMM-1 converges from both inits "
               "(max subspace distance)", "e1_nonpsd",
               _value(neg, "subspace_dist", method__shift=0.5, method__init_bottom=[0.0, 1.5]), "< 1e-8",
               lambda v: v < 1e-8),
    ]


# ------------------------------------------------------------------------------------ E2
def _mode_table(df: pd.DataFrame, prefix: str, k: int) -> pd.DataFrame:
    rows = []
    for m, g in df.groupby("method"):
        rows.append({"method": m, **{f"mode {i}": fmt_mean_se(g.get(f"{prefix}_{i}", pd.Series(dtype=float)))
                                     for i in range(1, k + 1)}})
    return pd.DataFrame(rows)


def _summary(df: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    rows = []
    for key, g in df.groupby(keys, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "runs": len(g),
                     **{m: fmt_mean_se(g[m]) for m in metrics if m in g.columns}})
    return pd.DataFrame(rows)


def _max_err(df: pd.DataFrame, modes: range) -> pd.Series:
    cols = [f"eig_rel_err_{i}" for i in modes if f"eig_rel_err_{i}" in df.columns]
    return df[cols].max(axis=1) if cols else pd.Series(NAN, index=df.index)


def report_e2(runs: RunSet, out: ReportWriter) -> list[Claim]:
    claims = []
    runs_e2 = runs.experiment("e2_kernel")
    for exp, ds, k in (("e2_kernel1d", "omm_rbf1d", 6), ("e2_kernel2d", "omm_rbf2d", 10)):
        df = runs_e2[runs_e2["dataset"] == ds] if len(runs_e2) else runs_e2
        if not len(df):
            continue
        df = df.assign(max_eig_err_1_4=_max_err(df, range(1, 5)))
        out.table(exp, _summary(df, ["method"], ["mean_cos", "min_cos", "subspace_dist", "max_eig_err_1_4",
                                                  "diverged"]),
                  caption=f"{exp}: Gaussian-kernel operator (synthetic samples), k = {k}; aligned |cos| "
                          "(Procrustes in degenerate blocks), subspace distance, max relative eigenvalue error "
                          "of modes 1-4 (Rayleigh quotients, U-statistic on the evaluation set). Mean ± s.e. over seeds.")
        out.table(f"{exp}_cos_per_mode", _mode_table(df, "cos", k), caption=f"{exp}: |cos| per mode.")
        out.table(f"{exp}_eig_err_per_mode", _mode_table(df, "eig_rel_err", k),
                  caption=f"{exp}: relative eigenvalue error per mode.")
        fig, ax = _fig(1, 2)
        for m, g in df.groupby("method"):
            errs = [g[f"eig_rel_err_{i}"].mean() for i in range(1, k + 1)]
            ax[0, 0].semilogy(range(1, k + 1), errs, "o-", label=m)
        ax[0, 0].set_xlabel("mode i")
        ax[0, 0].set_ylabel("|lambda_hat - lambda| / lambda")
        ax[0, 0].set_title(f"{exp}: eigenvalue error per mode")
        ax[0, 0].legend(fontsize=7)
        _curves(ax[0, 1], df[df["seed"] == df["seed"].min()], ["method"], "mean_cos", logy=False)
        ax[0, 1].set_title(f"{exp}: mean aligned |cos| during training")
        ax[0, 1].legend(fontsize=7)
        out.figure(f"{exp}_errors", fig, caption=f"{exp}: eigenvalue error per mode and convergence (seed 0).")
        if exp == "e2_kernel1d":
            _eigfun_1d(df, k, out)
    one = runs_e2[runs_e2["dataset"] == "omm_rbf1d"] if len(runs_e2) else runs_e2
    one = one.assign(max_eig_err_1_4=_max_err(one, range(1, 5))) if len(one) else one
    by = {m: (one[one["method"] == m] if len(one) else one) for m in ("omm_seq", "omm_jnt", "omm_lora_seq")}
    for name in ("seq", "jnt"):
        g = by[f"omm_{name}"]
        claims.append(_claim(f"E2-{name}-cos", f"OMM_{name}: mean |cos| over the top-6 1-D modes",
                             "e2_kernel", _value(g, "mean_cos", "mean"), ">= 0.95", lambda v: v >= 0.95))
        claims.append(_claim(f"E2-{name}-eig", f"OMM_{name}: max relative eigenvalue error, modes 1-4 (1-D)",
                             "e2_kernel", _value(g, "max_eig_err_1_4", "mean"), "<= 0.05", lambda v: v <= 0.05))
    gap = _value(by["omm_lora_seq"], "mean_cos", "mean") - _value(by["omm_seq"], "mean_cos", "mean")
    claims.append(_claim("E2-seq-vs-lora", "OMM_seq mean |cos| within 0.03 of LoRA_seq, 1-D "
                         "(measured: LoRA_seq - OMM_seq)", "e2_kernel", gap, "<= 0.03", lambda v: v <= 0.03))
    return claims


def _eigfun_1d(df: pd.DataFrame, k: int, out: ReportWriter) -> None:
    """Each run stores its learned functions next to the truth with the sign that matches them;
    flip every run to the sign of the first run's truth so that all share one reference curve."""
    fig, ax = _fig(2, 3, w=4.0, h=3.0)
    first = df[df["seed"] == df["seed"].min()]
    tables = []
    for _, row in first.iterrows():
        table = _table(row["run_dir"], "eigfun")
        if table is not None:
            tables.append((row["method"], table))
    if not tables:
        return
    ref = tables[0][1]
    for i in range(min(k, 6)):
        a = ax[i // 3, i % 3]
        for method, t in tables:
            sign = np.sign(float(np.dot(t[f"true_{i + 1}"], ref[f"true_{i + 1}"]))) or 1.0
            a.plot(t["x"], sign * t[f"learned_{i + 1}"], label=method, lw=1)
        a.plot(ref["x"], ref[f"true_{i + 1}"], "k--", label="closed form", lw=1.5)
        a.set_title(f"mode {i + 1}")
        a.set_xlabel("x")
        a.set_ylabel("phi(x)")
    ax[0, 0].legend(fontsize=6)
    out.figure("e2_eigenfunctions_1d", fig,
               caption="E2: learned eigenfunctions (sign-aligned, unit L2(rho) norm) vs the closed form, 1-D kernel.")


# ------------------------------------------------------------------------------------ E3
def report_e3(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e3_gridworld")
    if not len(df):
        return _e3_claims(df)
    est = "method.estimator"
    out.table("e3_gridworld", _summary(df, ["dataset", est, "method"], ["mean_cos", "min_cos", "subspace_dist",
                                                                           "diverged"]),
              caption="E3: grid-world operators T = P + I (synthetic layouts), k = 11, aligned |cos| with "
                      "Procrustes inside degenerate blocks (tolerance 1e-8); identical hyperparameters on both layouts.")
    fig, ax = _fig(1, 2)
    for j, (e, g) in enumerate(df.groupby(est)):
        if j < 2:
            _curves(ax[0, j], g, ["dataset", "method"], "mean_cos", logy=False)
            ax[0, j].set_title(f"E3 ({e} estimator): mean |cos| during training")
            ax[0, j].legend(fontsize=6)
    out.figure("e3_convergence", fig, caption="E3: convergence of the mean aligned |cos|.")
    pick = df[(df["dataset"] == "omm_fourrooms") & (df["method"] == "omm_seq") & (df[est] == "full")]
    table = _table(pick.iloc[0]["run_dir"], "eigfun") if len(pick) else None
    if table is not None:
        _heatmaps(table, out)
    return _e3_claims(df)


def _e3_claims(df: pd.DataFrame) -> list[Claim]:
    claims = []
    for e, thr in (("full", 0.95), ("sampled", 0.85)):
        for m in ("omm_seq", "omm_jnt"):
            v = _value(df, "mean_cos", "min", method=m, method__estimator=e,
                       dataset=["omm_fourrooms", "omm_maze"])
            if len(df) and df[(df["method"] == m) & (df.get("method.estimator") == e)]["dataset"].nunique() < 2:
                v = NAN
            claims.append(_claim(f"E3-{e}-{m.split('_')[1]}",
                                 f"{m}, {e} estimator: mean |cos| (min over the two layouts)",
                                 "e3_gridworld", v, f">= {thr}", lambda x, t=thr: x >= t))
    return claims


def _heatmaps(t: pd.DataFrame, out: ReportWriter, modes=(2, 3, 4, 5, 6)) -> None:
    fig, ax = _fig(2, len(modes), w=2.6, h=2.6)
    nr, nc = int(t["row"].max()) + 2, int(t["col"].max()) + 2
    for j, m in enumerate(modes):
        for r, kind in enumerate(("true", "learned")):
            img = np.full((nr, nc), np.nan)
            img[t["row"].astype(int), t["col"].astype(int)] = t[f"{kind}_{m}"]
            a = ax[r, j]
            a.imshow(img, cmap="RdBu_r")
            a.set_title(f"{kind} mode {m}", fontsize=8)
            a.set_xticks([])
            a.set_yticks([])
    out.figure("e3_fourrooms_eigenfunctions", fig,
               caption="E3: four rooms, exact eigenvectors (top row, rotated inside degenerate blocks) vs OMM_seq "
                       "(full batch, bottom row), modes 2-6 (mode 1 is constant).")


# ------------------------------------------------------------------------------------ E4
def report_e4(runs: RunSet, out: ReportWriter) -> list[Claim]:
    df = runs.experiment("e4_digits_graph")
    if len(df):
        out.table("e4_digits_graph", _summary(df, ["method"], ["subspace_dist", "mean_cos", "probe_acc",
                                                                "probe_acc_exact", "orth_err", "diverged"]),
                  caption="E4: 10-NN graph of sklearn digits (real), k = 16: subspace distance to the exact top-16 "
                          "eigenvectors of T = I + D^-1/2 A D^-1/2, linear-probe accuracy (logistic regression, "
                          "50/50 split) of the learned embedding and of the exact eigenvectors.")
        fig, ax = _fig(1, 1)
        _curves(ax[0, 0], df[df["seed"] == df["seed"].min()], ["method"], "subspace_dist")
        ax[0, 0].set_title("E4: subspace distance during training")
        ax[0, 0].legend(fontsize=7)
        out.figure("e4_convergence", fig, caption="E4: convergence of each objective on the digits graph.")
        lora = df[df["method"] == "omm_lora"]
        if len(lora):
            out.text(f"E4: LoRA (no nesting) diverged in {int(lora['diverged'].sum())} of {len(lora)} run(s) on the "
                     "digits graph (the paper reports divergence on ogbn-products; not required here).")
    omm = df[df["method"] == "omm"] if len(df) else df
    gap = _value(omm, "probe_acc", "mean") - _value(omm, "probe_acc_exact", "mean")
    return [
        _claim("E4-subspace", "OMM (p = 1) subspace distance to the exact top-16 eigenvectors", "e4_digits_graph",
               _value(omm, "subspace_dist", "mean"), "<= 0.2", lambda v: v <= 0.2),
        _claim("E4-probe", "OMM embedding linear-probe accuracy minus exact-eigenvector accuracy", "e4_digits_graph",
               gap, ">= -0.05", lambda v: v >= -0.05),
    ]


# ------------------------------------------------------------------------------------ E5
E5_VARIANTS = ("omm_seq", "omm_seq_shift", "omm_sanger", "omm_lora_seq")
E5_SHELLS = ((0, "n=0 (100)"), (1, "n=1 (11.1 x3)"), (2, "n=2 (4 x5)"))


def report_e5(runs: RunSet, out: ReportWriter) -> list[Claim]:
    """E5 (optional, non-gating): 2-D hydrogen, k = 9; eigenvalue error and subspace distance per shell."""
    df = runs.experiment("e5_hydrogen")
    if len(df):
        rows = []
        for m, g in df.groupby("method"):
            def col(name, g=g):
                return fmt_mean_se(g.get(name, pd.Series(dtype=float)))
            row = {"method": m, "runs": len(g), "diverged": col("diverged")}
            row.update({f"eig err {label}": col(f"shell_eig_err_{n}") for n, label in E5_SHELLS})
            row.update({f"subspace dist n={n}": col(f"shell_subspace_dist_{n}") for n, _ in E5_SHELLS})
            row["lam_hat_1"] = col("lam_hat_1")
            rows.append(row)
        out.table("e5_hydrogen", pd.DataFrame(rows),
                  caption="E5 (optional, not a gate): 2-D hydrogen T = 100 (lap + 1/|x|), synthetic samples "
                          "x ~ N(0, 16 I), k = 9. Per shell n: mean relative eigenvalue error of its modes "
                          "(Rayleigh quotients on the evaluation set; true 100, 11.1, 4) and the subspace distance "
                          "of the learned block to the true block (closed-form psi / sqrt(rho)). omm_seq_shift "
                          "trains OMM_seq on T + 100 I. Runs that diverged (an output above 1e4 or a non-finite "
                          "loss) are evaluated at their EMA weights when stopped.")
        out.table("e5_eig_err_per_mode", _mode_table(df, "eig_rel_err", 9),
                  caption="E5: relative eigenvalue error per mode (modes 1 | 2-4 | 5-9 are the shells n = 0 | 1 | 2).")
        fig, ax = _fig(1, 1)
        for m, g in df.groupby("method"):
            errs = [g[f"eig_rel_err_{i}"].astype(float).mean() if f"eig_rel_err_{i}" in g else NAN
                    for i in range(1, 10)]
            ax[0, 0].semilogy(range(1, 10), errs, "o-", label=m)
        ax[0, 0].axhline(0.1, color="k", lw=0.8, ls=":")
        ax[0, 0].set_xlabel("mode i (shells: 1 | 2-4 | 5-9)")
        ax[0, 0].set_ylabel("|lambda_hat - lambda| / lambda")
        ax[0, 0].set_title("E5 hydrogen: eigenvalue error per mode")
        ax[0, 0].legend(fontsize=7)
        out.figure("e5_eig_err", fig, caption="E5: relative eigenvalue error per mode and variant (dotted: 10%).")
        pick = df[df["method"] == "omm_sanger"]
        table = _table(pick.iloc[0]["run_dir"], "eigfun") if len(pick) else None
        if table is not None:
            _psi_maps(table, out)
    by = {m: (df[df["method"] == m] if len(df) else df) for m in ("omm_sanger", "omm_lora_seq")}
    errs = [_value(g, "eig_rel_err_1", "max") for g in by.values()]
    measured = max(errs) if not any(math.isnan(v) for v in errs) else NAN
    return [_claim("E5-lambda1", "[extra, non-gating] 2-D hydrogen: Sanger and LoRA_seq recover lambda_1 = 100 "
                   "within 10% (measured: the larger relative error of the two)", "e5_hydrogen",
                   measured, "<= 0.1", lambda v: v <= 0.1)]


def _psi_maps(t: pd.DataFrame, out: ReportWriter, modes=(1, 2, 3, 5, 8)) -> None:
    """|psi| = sqrt(rho) |f| on a grid, closed form (rotated inside degenerate blocks) vs learned."""
    g = np.sort(t["x"].unique())
    n = len(g)
    fig, ax = _fig(2, len(modes), w=2.6, h=2.6)
    for j, m in enumerate(modes):
        for r, kind in enumerate(("true", "learned")):
            img = (t["sqrt_rho"] * t[f"{kind}_{m}"]).abs().to_numpy().reshape(n, n).T
            a = ax[r, j]
            a.imshow(img, origin="lower", extent=(g[0], g[-1], g[0], g[-1]), cmap="viridis")
            a.set_title(f"{kind} |psi| mode {m}", fontsize=8)
            a.set_xticks([])
            a.set_yticks([])
    out.figure("e5_hydrogen_psi", fig,
               caption="E5: |psi| = sqrt(rho) |f| on [-8, 8]^2 for modes 1, 2, 3, 5, 8 (one per shell n = 0, 1, 1, "
                       "2, 2): closed form aligned to the learned block (top) vs Sanger (bottom), both with unit "
                       "L2(rho) norm on the evaluation set.")


NOTES = """**Reading the scorecard.** All operators are synthetic except the digits kNN graph (real, sklearn);
timings come from a shared 2-core machine. Thresholds are the spec's proposed acceptance criteria
(section 4), applied unchanged; the mechanisms behind the failures seen during development:

* *Joint nesting (E1, E3)* with alpha = (1/k, ..., 1/k) scales the gradient of column i by
  m_i = (k - i + 1)/k, so with the spec's step size (0.1/lambda_1) the last columns move k times slower
  than under OMM_seq.
* *OMM-2 (E1)* reaches the subspace to 1e-9, but near V^T V = I its loss is quartic in (I - V^T V),
  so the column norms (and its own loss gap) converge sublinearly.
* *Non-PSD (E1)*: from the spec's small N(0, 1/d) init, v = c w_neg with |c| < 1 is pulled back to 0
  ((1 - c^2)^2 lambda_neg has a barrier at |c| = 1), so OMM-1 does not diverge; started beyond the barrier
  it does (added row), and the shift kappa = 0.5 makes it converge from both.
* *Kernel operator (E2, 1-D)*: modes 5-6 have lambda = 0.013 and 0.005 (vs lambda_1 = 0.62); their gradient
  signal is that small while the minibatch noise of M[f, Tf] is not, so 5,000 Adam steps learn modes 1-4
  at best (the 2-D spectrum is flatter: lambda_10 / lambda_1 = 0.06).
* *Grid worlds (E3)*: the top-11 eigenvalues of T = P + I lie within 6% of each other with near-ties
  (gaps ~1e-3); ordering near-tied pairs is slow, and every curve is still rising at 10,000 steps
  (the paper trains 80,000).
* *Hydrogen (E5, optional, not a gate)*: with the spec's lr 1e-4 the runs are far from converged
  (the paper trains 10^5 steps). Under N(0, 16 I) only ~3% of the samples fall within r < 1, where
  the ground state has its cusp, so the learned ground state is too smooth and its Rayleigh quotient
  too low; the n = 2 shell has 50-80% of its mass at r > 14, which the sampler rarely reaches (0.2%).
"""


def report(runs: RunSet, out: ReportWriter) -> list[Claim]:
    out.text(NOTES)
    return (report_e1(runs, out) + report_e2(runs, out) + report_e3(runs, out) + report_e4(runs, out)
            + report_e5(runs, out))
