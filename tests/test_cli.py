"""python -m spectral: one-line errors, dry run, report header, Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_experiments import make_project

import spectral.experiments as ex
from spectral.__main__ import main


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def test_dry_run_lists_runs_count_and_eta(project, capsys):
    assert main(["run", "tiny", "--dry-run", "-p", "value=2", "--seeds", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("smoke-fail=False-value=2.0-s4  pending  {")
    assert '"value": 2.0' in out[0] and '"seed": 4' in out[0]
    assert out[1:] == ["1 run: 0 done, 1 pending, 0 running", "ETA: no measured epoch times yet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "seed=5"], "'seed' cannot be set with -p: set seeds with --seeds"),
        (["-p", "device=cuda:0"], "choose devices with --devices"),
        (["-p", "valu=1"], "unknown parameter 'valu' for tiny; did you mean 'value'? valid: "),
        (["-p", "steps=5e3"], "write it as an integer: steps=5000"),
        (["-p", "milestones=[1,"], "milestones=[1,: not valid JSON"),
        (["-p", "value"], "-p expects KEY=VALUE"),
        (["--slurm", "{bad"], "--slurm is not valid JSON"),
        (["--slurm", "[1]"], "--slurm expects a JSON object"),
        (["--profile", "huge"], "no profile 'huge' for tiny; choose one of smoke"),
        (["--executor", "slurm"], "no SLURM cluster reachable"),
    ],
)
def test_bad_requests_are_one_line_errors(project, capsys, args, message):
    assert main(["run", "tiny", "--results", str(project / "results"), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_unknown_experiment_is_a_one_line_error(project, capsys):
    assert main(["run", "nope"]) == 2
    assert capsys.readouterr().err == "error: no experiment 'nope'; known: tiny\n"


def test_report_header_says_means_are_over_complete_runs(tmp_path, capsys):
    ex.write_result(
        tmp_path / "fx" / "a.json",
        experiment="fx",
        run_id="a",
        params={"profile": "cpu", "seed": 0},
        status="complete",
        metrics=[],
        final={"test_accuracy": 0.5},
    )
    assert main(["report", "fx", "--metrics", "test_accuracy", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "mean ± std over complete runs; diverged and failed runs are counted, not averaged"
    )
    assert "diverged" in out[1] and "failed" in out[1]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads kernel states in /proc")
def test_ctrl_c_stops_the_kernel_keeps_the_checkpoint_and_exits_130(project):
    run = ex.expand("tiny", "smoke", seeds=[0], overrides={"sleep": 120})[0]
    checkpoint = run.checkpoint_path(project / "data" / "cache")
    command = [sys.executable, "-m", "spectral", "run", "tiny", "--seeds", "0", "-p", "sleep=120"]
    proc = subprocess.Popen(
        command,
        cwd=project,
        env=os.environ | {"SPECTRAL_PROJECT": str(project)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal goes to the runner only: it must pass it on
    )
    try:
        assert _wait_for(lambda: checkpoint.exists() and checkpoint.read_text(), 180)
        kernel = int(checkpoint.read_text())
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert (
        err.splitlines()[-1]
        == f"interrupted: 0 runs finished, {run.run_id} stopped (checkpoint kept)"
    )
    assert "Traceback" not in out + err
    assert checkpoint.is_file() and not run.result_path(project / "data" / "results").exists()
    assert _wait_for(lambda: not _alive(kernel), 10), "the kernel outlived the runner"
