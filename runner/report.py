"""``mlrun-report``: run folders → pandas → tables (CSV + Markdown), figures, scorecard, REPORT.md.

``mlrun-report --runs DIR [DIR ...]``  any set of run folders: mean ± standard error over seeds of
every metric, per configuration, a figure of the main metrics and a scorecard (runs completed).

``mlrun-report <slug> [--scale S] [--reproduce]``  one paper: with ``--reproduce`` first runs every
experiment listed in ``experiments/<slug>.py`` (``mlrun experiment=<slug>/<name> scale=S``), then
calls the paper module's ``report`` on the collected runs and writes ``outputs/reports/<slug>/``.
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from runner.paper import Claim, ReportWriter, RunSet, mean_se
from runner.records import atomic_write, git_commit, markdown_table, read_json

ID_COLUMNS = ("run_dir", "status", "experiment", "method", "dataset", "seed", "scale", "error",
              "wall_time_s")
SCORECARD_COLUMNS = ["claim_id", "claim", "experiment", "measured", "threshold", "passed"]


def outputs_root() -> Path:
    return Path(os.environ.get("MLRUN_OUTPUTS", "outputs"))


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def collect_runs(dirs: list[Path]) -> pd.DataFrame:
    """One row per run folder (a folder holding ``run.json``) found under ``dirs``.

    Columns: the ID columns, one column per command-line override (``key=value``), and one per
    metric in ``metrics.json`` and timing in ``timings.json``.
    """
    rows, metrics = [], {}
    for root in dirs:
        for path in sorted(Path(root).glob("**/run.json")):
            run_dir = path.parent
            try:
                info = read_json(path)
            except (OSError, ValueError):
                info = {"status": "unreadable"}
            sweep = info.get("sweep") or ""
            row = {"run_dir": str(run_dir), "status": info.get("status"),
                   "experiment": sweep.split("/")[-1] if sweep else "",
                   "method": info.get("method"), "dataset": info.get("dataset"),
                   "seed": info.get("seed"), "scale": info.get("scale"),
                   "error": info.get("error") or "", "wall_time_s": info.get("wall_time_s")}
            for item in info.get("overrides") or []:
                key, _, value = item.partition("=")
                key = key.lstrip("+~")
                if key not in ("method", "dataset", "seed", "scale", "experiment", "force"):
                    row[key] = _parse_value(value)
            for name in ("metrics.json", "timings.json"):
                if (run_dir / name).exists() and row["status"] == "completed":
                    for k, v in read_json(run_dir / name).items():
                        row[k] = float(v) if isinstance(v, (int, float)) else math.nan
                        metrics.setdefault(k, None)
            rows.append(row)
    frame = pd.DataFrame(rows)
    for col in ID_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.Series(dtype=object)
    frame.attrs["metrics"] = list(metrics)
    return frame


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that hold metrics (``metrics.json`` keys, recorded by :func:`collect_runs`)."""
    return [c for c in frame.attrs.get("metrics", []) if c in frame.columns]


def group_columns(frame: pd.DataFrame, metrics: list[str]) -> list[str]:
    """The configuration columns that identify a cell (everything but seed, ids and metrics)."""
    skip = set(ID_COLUMNS) - {"method", "dataset", "experiment"} | set(metrics)
    cols = [c for c in frame.columns if c not in skip]
    return [c for c in cols if frame[c].astype(str).nunique() > 1 or c in ("method", "dataset")]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± standard error over seeds of every metric, one row per configuration cell."""
    ok = frame[frame["status"] == "completed"]
    metrics = metric_columns(ok)
    keys = group_columns(ok, metrics)
    if ok.empty:
        return pd.DataFrame(columns=keys + ["n_seeds"])
    rows = []
    for cell, sub in ok.groupby(keys, dropna=False, sort=True):
        cell = cell if isinstance(cell, tuple) else (cell,)
        row = dict(zip(keys, cell))
        row["n_seeds"] = len(sub)
        for m in metrics:
            mean, se = mean_se(sub[m])
            row[m] = mean
            row[f"{m} se"] = se
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with each metric as one ``mean ± se`` string column (for Markdown)."""
    out = summary[[c for c in summary.columns if not c.endswith(" se")]].copy()
    for c in out.columns:
        if f"{c} se" in summary.columns:
            out[c] = [_pm(m, s) for m, s in zip(summary[c], summary[f"{c} se"])]
    return out


def _pm(mean: float, se: float) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{mean:.4g}" if not se or math.isnan(se) else f"{mean:.4g} ± {se:.2g}"


def summary_figure(summary: pd.DataFrame, metrics: list[str], keys: list[str]):
    """Bar charts (mean ± s.e.) of up to six metrics across the configuration cells."""
    from matplotlib.figure import Figure

    metrics = metrics[:6]
    fig = Figure(figsize=(4.0 * len(metrics), 3.6), layout="constrained")
    labels = [" ".join(f"{row[k]}" for k in keys) for _, row in summary.iterrows()]
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        ax.bar(range(len(summary)), summary[m], yerr=summary[f"{m} se"], capsize=3, color="C0")
        ax.set_xticks(range(len(summary)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_title(m)
    return fig


# -- writing ------------------------------------------------------------------------------------

def write_table(out_dir: Path, name: str, df: pd.DataFrame) -> str:
    """Write ``<name>.csv`` and ``<name>.md``; return the Markdown."""
    md = markdown_table(df)
    atomic_write(out_dir / f"{name}.csv", df.to_csv(index=False))
    atomic_write(out_dir / f"{name}.md", md + "\n")
    return md


def write_figure(out_dir: Path, name: str, fig) -> str:
    path = out_dir / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{name}.tmp.png")
    fig.savefig(tmp, dpi=130, bbox_inches="tight")
    os.replace(tmp, path)
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:
        pass
    return f"figures/{name}.png"


def scorecard_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([c.row() for c in claims], columns=SCORECARD_COLUMNS)


def write_report(out_dir: Path, title: str, header: str, claims: list[Claim],
                 writer: ReportWriter, frame: pd.DataFrame, extra_tables=()) -> Path:
    """Write every section of ``writer``, ``scorecard.csv``, ``runs.csv`` and ``REPORT.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    card = scorecard_frame(claims)
    lines = [f"# {title}", "", header, ""]
    passed = int(card["passed"].sum()) if len(card) else 0
    lines += [f"## Scorecard: {passed} of {len(card)} claims hold", "",
              write_table(out_dir, "scorecard", card), ""]
    for name, df, caption in extra_tables:
        lines += [f"## {caption}", "", write_table(out_dir, name, df), ""]
    for kind, name, payload in writer.sections:
        if kind == "table":
            df, caption = payload
            lines += [f"### {caption or name}", "", write_table(out_dir, name, df), "",
                      f"([{name}.csv]({name}.csv))", ""]
        elif kind == "figure":
            fig, caption = payload
            rel = write_figure(out_dir, name, fig)
            lines += [f"### {caption or name}", "", f"![{name}]({rel})", ""]
        else:
            lines += [payload, ""]
    failed = frame[frame["status"] != "completed"] if len(frame) else frame
    if len(failed):
        lines += ["## Runs that did not complete", "",
                  markdown_table(failed[["run_dir", "status", "error"]]), ""]
    atomic_write(out_dir / "runs.csv", frame.to_csv(index=False))
    atomic_write(out_dir / "REPORT.md", "\n".join(lines))
    return out_dir / "REPORT.md"


def _header(n_runs: int, n_ok: int, scale: str | None = None) -> str:
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [f"Generated {stamp} by `mlrun-report`", f"commit `{git_commit() or 'unknown'}`",
             f"{n_ok} of {n_runs} runs completed"]
    if scale:
        parts.insert(1, f"scale `{scale}`")
    return " · ".join(parts) + "."


# -- the two modes -------------------------------------------------------------------------------

def report_runs(dirs: list[Path], out_dir: Path) -> tuple[Path, list[Claim]]:
    """Generic report of any run folders: summary table, figure and completion scorecard."""
    frame = collect_runs(dirs)
    if frame.empty:
        raise SystemExit(f"error: no run folders (run.json) under {', '.join(map(str, dirs))}")
    summary = summarize(frame)
    writer = ReportWriter(out_dir)
    n_ok = int((frame["status"] == "completed").sum())
    writer.table("summary", format_summary(summary), "Mean ± standard error over seeds")
    metrics = metric_columns(frame)
    if metrics and len(summary):
        keys = group_columns(frame[frame["status"] == "completed"], metrics)
        writer.figure("summary", summary_figure(summary, metrics, keys), "Main metrics (mean ± s.e.)")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "summary_numeric.csv", summary.to_csv(index=False))
    claims = [Claim("runs-completed", "every run of the set completed", "runs",
                    round(n_ok / len(frame), 4), "= 1", n_ok == len(frame))]
    path = write_report(out_dir, "Run report: " + ", ".join(str(d) for d in dirs),
                        _header(len(frame), n_ok), claims, writer, frame)
    return path, claims


def paper_module(slug: str):
    name = "experiments." + slug.replace("-", "_")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        known = sorted(p.stem.replace("_", "-") for p in Path(__file__).parent.parent.joinpath(
            "experiments").glob("*.py") if p.stem != "__init__")
        raise SystemExit(f"error: no paper '{slug}'; known: {', '.join(known)}") from None


def reproduce(slug: str, scale: str, overrides: list[str]) -> pd.DataFrame:
    """Run every experiment of the paper as its own sweep; return wall time and exit per sweep."""
    module = paper_module(slug)
    rows = []
    for exp in module.EXPERIMENTS:
        cmd = [sys.executable, "-m", "runner.cli", f"experiment={slug}/{exp}", f"scale={scale}",
               *overrides]
        print(f"[mlrun-report] {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd)
        rows.append({"experiment": exp, "wall_time_s": round(time.perf_counter() - t0, 2),
                     "exit_code": code})
    return pd.DataFrame(rows)


def report_paper(slug: str, scale: str, out_dir: Path | None = None,
                 timings: pd.DataFrame | None = None) -> tuple[Path, list[Claim]]:
    """The paper's report from ``outputs/sweeps/<slug>/<experiment>/<scale>/``."""
    module = paper_module(slug)
    dirs = [outputs_root() / "sweeps" / slug / exp / scale for exp in module.EXPERIMENTS]
    frame = collect_runs([d for d in dirs if d.exists()])
    out_dir = out_dir or outputs_root() / "reports" / slug
    writer = ReportWriter(out_dir)
    claims = module.report(RunSet(frame), writer) if len(frame) else []
    missing = [exp for exp, d in zip(module.EXPERIMENTS, dirs) if not d.exists()]
    header = _header(len(frame), int((frame["status"] == "completed").sum()) if len(frame) else 0,
                     scale)
    if missing:
        header += f"\n\nNot run yet at this scale: {', '.join(missing)} (`make reproduce-{slug}`)."
    if getattr(module, "SUMMARY", ""):
        header += "\n\n" + module.SUMMARY
    extra = [("experiments", experiment_table(frame, module.EXPERIMENTS),
              "Runs per experiment (run time summed over its runs, from run.json)")]
    if timings is not None:
        extra.append(("timings", timings, "Wall time per experiment (this invocation; finished "
                                          "runs are skipped)"))
    path = write_report(out_dir, getattr(module, "TITLE", slug), header, claims, writer, frame, extra)
    return path, claims


def experiment_table(frame: pd.DataFrame, experiments: list[str]) -> pd.DataFrame:
    """Per experiment: runs found, completed, failed, and the summed and largest run wall time."""
    rows = []
    for exp in experiments:
        sub = frame[frame["experiment"] == exp] if len(frame) else frame
        wall = pd.to_numeric(sub["wall_time_s"], errors="coerce") if len(sub) else pd.Series([])
        rows.append({"experiment": exp, "runs": len(sub),
                     "completed": int((sub["status"] == "completed").sum()) if len(sub) else 0,
                     "failed": int((sub["status"] == "failed").sum()) if len(sub) else 0,
                     "run_time_sum_s": round(float(wall.sum()), 1),
                     "run_time_max_s": round(float(wall.max()), 1) if wall.notna().any() else 0.0})
    return pd.DataFrame(rows)


def _print_scorecard(claims: list[Claim], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="scorecard")
    for col in ("claim_id", "claim", "measured", "threshold", "passed"):
        table.add_column(col, overflow="fold")
    for c in claims:
        r = c.row()
        table.add_row(r["claim_id"], r["claim"], str(r["measured"]), r["threshold"],
                      "[green]PASS[/]" if r["passed"] else "[red]FAIL[/]")
    console = Console()
    console.print(table)
    console.print(f"report: {path}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point ``mlrun-report``."""
    parser = argparse.ArgumentParser(prog="mlrun-report", description=__doc__.split("\n\n")[0])
    parser.add_argument("paper", nargs="?", help="paper slug (rif, lewis, mixture-vi, omm, xnet, ...)")
    parser.add_argument("--runs", nargs="+", type=Path, help="run or sweep folders to report on")
    parser.add_argument("--scale", default="default", choices=["smoke", "default", "paper"])
    parser.add_argument("--reproduce", action="store_true",
                        help="run every experiment of the paper first (skips finished runs)")
    parser.add_argument("--out", type=Path, help="report folder (default outputs/reports/<name>)")
    parser.add_argument("overrides", nargs="*", default=[],
                        help="extra mlrun overrides for --reproduce, e.g. threads=1 force=true")
    args, extra = parser.parse_known_args(argv)
    overrides = args.overrides + extra
    if args.runs:
        missing = [d for d in args.runs if not d.exists()]
        if missing:
            raise SystemExit(f"error: no such folder: {missing[0]}")
        out = args.out or outputs_root() / "reports" / args.runs[0].name
        path, claims = report_runs(args.runs, out)
        _print_scorecard(claims, path)
        return
    if not args.paper:
        parser.error("give a paper slug or --runs DIR")
    timings = reproduce(args.paper, args.scale, overrides) if args.reproduce else None
    path, claims = report_paper(args.paper, args.scale, args.out, timings)
    _print_scorecard(claims, path)
    if timings is not None and (timings["exit_code"] != 0).any():
        bad = timings.loc[timings["exit_code"] != 0, "experiment"].tolist()
        raise SystemExit(f"error: experiment(s) with failed runs: {', '.join(bad)}")


if __name__ == "__main__":
    main()
