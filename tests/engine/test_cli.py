"""The CLI end to end: run folders, sweeps, launchers, resume, failures, interrupts, bad input."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert lines, "no error message"
    return lines[-1]


def test_single_run_writes_a_complete_run_folder(cli):
    proc = cli("method=debug", "dataset=digits", "seed=3")
    assert proc.returncode == 0, proc.stderr
    assert "mean_y" in proc.stdout  # the metrics table
    (run_dir,) = cli.run_dirs()
    assert run_dir.parent.name == "debug-digits"
    for name in ("run.json", "metrics.json", "done", ".hydra/config.yaml", "run.log"):
        assert (run_dir / name).exists(), name
    info = cli.info(run_dir)
    assert info["status"] == "completed" and info["seed"] == 3
    for key in ("start", "stop", "wall_time_s", "cpu_time_s", "peak_memory_mb", "git_commit",
                "versions", "blas", "dataset_info"):
        assert key in info, key
    assert info["versions"]["numpy"]
    assert info["dataset_info"]["n"] == 357
    assert "seed: 3" in (run_dir / ".hydra" / "config.yaml").read_text()


def test_same_config_and_seed_give_identical_metrics(cli):
    for _ in range(2):
        assert cli("method=debug", "seed=7").returncode == 0
    a, b = [json.loads((d / "metrics.json").read_text()) for d in cli.run_dirs()]
    assert a == b


def test_unknown_method_and_dataset_are_one_line_errors(cli):
    line = _one_line_error(cli("method=nope"))
    assert "nope" in line or "HYDRA_FULL_ERROR" in line
    assert "nope" in cli("dataset=nope").stderr


def test_incompatible_dataset_lists_compatible_ones(cli, tmp_path):
    csv = tmp_path / "r.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "t": [0.5, 1.5, 2.5]}).to_csv(csv, index=False)
    line = _one_line_error(cli("method=debug", "dataset=csv", f"dataset.path={csv}",
                               "dataset.target=t", "dataset.task=regression"))
    assert "compatible datasets" in line and "breast_cancer" in line and "digits" in line


@pytest.mark.parametrize("frame, args, expect", [
    (None, ["dataset.path=/no/such/file.csv", "dataset.target=y"], "not found"),
    ({"a": [1.0, 2.0], "y": [0, 1]}, ["dataset.target=label"], "target column 'label'"),
    ({"a": ["x", "z"], "y": [0, 1]}, ["dataset.target=y"], "non-numeric"),
    ({"a": [1.0, float("nan")], "y": [0, 1]}, ["dataset.target=y"], "NaN"),
])
def test_bad_csv_input(cli, tmp_path, frame, args, expect):
    extra = []
    if frame is not None:
        path = tmp_path / "d.csv"
        pd.DataFrame(frame).to_csv(path, index=False)
        extra = [f"dataset.path={path}"]
    line = _one_line_error(cli("method=debug", "dataset=csv", *extra, *args))
    assert expect in line


def test_negative_seed_is_rejected(cli):
    assert "seed" in _one_line_error(cli("method=debug", "seed=-1"))


def test_removal_fraction_outside_unit_interval_is_rejected(cli):
    line = _one_line_error(cli("method=rif", "scale=smoke", "method.fraction=[0.01,1.5]"))
    assert "fraction" in line


def test_default_run_prints_a_table_and_is_deterministic(cli):
    outs = [cli("scale=smoke") for _ in range(2)]
    assert all(p.returncode == 0 for p in outs), outs[0].stderr
    assert "rif/slope" in outs[0].stdout and "if/slope" in outs[0].stdout
    a, b = [json.loads((d / "metrics.json").read_text()) for d in cli.run_dirs()]
    assert a == b and "rif/slope" in a
    assert "time/refit" in json.loads((cli.run_dirs()[0] / "timings.json").read_text())


def test_failing_job_does_not_stop_the_sweep(cli):
    proc = cli("-m", "method=debug", "dataset=digits,breast_cancer", "seed=0,1",
               "method.fail_on_seed=1")
    assert proc.returncode != 0
    infos = {d.name: cli.info(d) for d in cli.run_dirs()}
    assert len(infos) == 4
    failed = {k: v for k, v in infos.items() if v["status"] == "failed"}
    assert set(failed) == {k for k in infos if k.endswith("seed=1")}
    for v in failed.values():
        assert "RuntimeError: debug failure" in v["traceback"]
    done = [d for d in cli.run_dirs() if (d / "done").exists()]
    assert len(done) == 2


def test_rerun_skips_finished_runs_and_force_reruns(cli):
    args = ("-m", "method=debug", "dataset=digits", "seed=0,1", "sweep_name=resume")
    assert cli(*args).returncode == 0
    first = {d: (d / "metrics.json").stat().st_mtime_ns for d in cli.run_dirs()}
    time.sleep(0.05)
    proc = cli(*args)
    assert proc.returncode == 0 and "skipped" in proc.stderr
    assert {d: (d / "metrics.json").stat().st_mtime_ns for d in cli.run_dirs()} == first
    assert cli(*args, "force=true").returncode == 0
    assert all((d / "metrics.json").stat().st_mtime_ns != t for d, t in first.items())


def test_ctrl_c_marks_the_run_interrupted(cli):
    import shutil

    proc = subprocess.Popen([shutil.which("mlrun"), "method=debug", "method.sleep=60"],
                            cwd=cli.root, env=cli.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list(cli.outputs.glob("**/run.json")):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    (run_dir,) = cli.run_dirs()
    assert cli.info(run_dir)["status"] == "interrupted"
    assert not (run_dir / "done").exists()


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_launchers_run_a_four_job_sweep_and_report(cli, launcher):
    proc = cli("-m", "method=if,rif", "dataset=digits", "seed=0,1", "scale=smoke",
               f"hydra/launcher={launcher}", f"sweep_name={launcher}")
    assert proc.returncode == 0, proc.stderr
    runs = [d for d in cli.run_dirs() if (d / "done").exists()]
    assert len(runs) == 4
    sweep = cli.outputs / "sweeps" / launcher
    rep = cli("--runs", str(sweep), script="mlrun-report")
    assert rep.returncode == 0, rep.stderr
    out = cli.outputs / "reports" / launcher
    summary = (out / "summary.md").read_text()
    assert "±" in summary and "n_seeds" in summary
    card = pd.read_csv(out / "scorecard.csv")
    assert list(card.columns) == ["claim_id", "claim", "experiment", "measured", "threshold",
                                  "passed"]
    assert card["passed"].all()
    assert (out / "figures" / "summary.png").exists() and (out / "REPORT.md").exists()


def test_help_imports_neither_torch_nor_matplotlib():
    code = ("import sys; sys.argv = ['mlrun', '--help']\n"
            "from runner.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', 'torch' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY False False" in out.stdout, out.stdout + out.stderr
