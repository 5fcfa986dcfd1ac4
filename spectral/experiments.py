"""Papermill-driven experiments: grids of runs, resume, atomic results, reports.

An experiment family ``X`` is a Jupytext notebook ``notebooks/experiments/X.py`` with a
cell tagged ``parameters`` and a profile file ``notebooks/experiments/X.json``::

    {"profiles": {"smoke": {"params": {...}, "grid": {"model": ["a", "b"]}, "seeds": [0]},
                  "cpu": {...}, "paper": {...}}}

A *run* is one point of ``params × grid × seeds``. :func:`run_experiment` executes each
run through papermill with extra parameters ``experiment``, ``run_id``, ``seed``,
``device``, ``result_path`` and ``checkpoint_path``; the notebook trains (resuming from
``checkpoint_path`` if it exists) and ends with :func:`write_result`. Runs whose result
file is complete (or diverged) are skipped; a missing, corrupt or failed result is
redone. Results are ``data/results/<experiment>/<run_id>.json``, written atomically.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import re
import subprocess
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

__all__ = [
    "PROJECT",
    "Run",
    "expand",
    "load_results",
    "report",
    "result_status",
    "run_experiment",
    "write_result",
]

#: The project folder (where ``notebooks/`` and ``data/`` live).
PROJECT = Path(os.environ.get("SPECTRAL_PROJECT", Path(__file__).resolve().parent.parent))
_FINISHED = ("complete", "diverged")
_REQUIRED = ("experiment", "run_id", "params", "status", "metrics", "final")


@dataclass(frozen=True)
class Run:
    """One point of an experiment grid."""

    experiment: str
    run_id: str
    params: dict

    def result_path(self, results: Path) -> Path:
        return results / self.experiment / f"{self.run_id}.json"

    def checkpoint_path(self, cache: Path) -> Path:
        return cache / "checkpoints" / self.experiment / f"{self.run_id}.pt"


def _notebook(experiment: str) -> Path:
    path = PROJECT / "notebooks" / "experiments" / f"{experiment}.py"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.py"))
        raise ValueError(f"no experiment {experiment!r}; known: {', '.join(known) or 'none'}")
    return path


def _profiles(experiment: str) -> dict:
    return json.loads(_notebook(experiment).with_suffix(".json").read_text())["profiles"]


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", str(value)).strip("_")


def expand(
    experiment: str,
    profile: str,
    *,
    seeds: Sequence[int] | None = None,
    overrides: dict | None = None,
) -> list[Run]:
    """The runs of ``experiment`` under ``profile``: ``params × grid × seeds``.

    ``overrides`` replace parameters (a list value for a grid key replaces the grid
    axis); ``seeds`` replaces the profile's seeds. The run id names the profile, the
    grid values and the seed, plus every override, e.g. ``cpu-model=resnet20-s0``.
    """
    profiles = _profiles(experiment)
    if profile not in profiles:
        raise ValueError(
            f"no profile {profile!r} for {experiment}; choose one of {', '.join(profiles)}"
        )
    spec = profiles[profile]
    params = dict(spec.get("params", {}))
    grid = dict(spec.get("grid", {}))
    overrides = dict(overrides or {})
    for key, value in overrides.items():
        if key in grid:
            grid[key] = value if isinstance(value, list) else [value]
        else:
            params[key] = value
    seeds = list(seeds if seeds is not None else spec.get("seeds", [0]))
    named = [k for k in overrides if k not in grid]
    runs = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values, strict=True))
        for seed in seeds:
            parts = [profile]
            parts += [f"{k}={_slug(v)}" for k, v in point.items()]
            parts += [f"{k}={_slug(params[k])}" for k in named]
            parts.append(f"s{seed}")
            run_params = params | point | {"seed": seed, "profile": profile}
            runs.append(Run(experiment, "-".join(parts), run_params))
    return runs


def result_status(path: Path) -> str | None:
    """``status`` of a result file, or ``None`` if it is missing or not a valid result."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or any(k not in data for k in _REQUIRED):
        return None
    return data["status"]


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _versions() -> dict:
    import numpy
    import torch

    import spectral

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "spectral": spectral.__version__,
    }


def _device_name(device: str) -> str:
    import torch

    if str(device).startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def write_result(
    path: str | os.PathLike,
    *,
    experiment: str,
    run_id: str,
    params: dict,
    status: str,
    metrics: list[dict],
    final: dict,
    wall_time_s: float,
    device: str = "cpu",
    extra: dict | None = None,
) -> Path:
    """Write one run's result JSON atomically (temp file, then rename).

    The file holds ``experiment``, ``run_id``, ``params``, ``status``
    (``complete``/``diverged``/``failed``), per-epoch ``metrics``, ``final`` metrics,
    ``git_sha``, library ``versions``, ``device``, ``wall_time_s`` and ``extra``.
    """
    if status not in ("complete", "diverged", "failed"):
        raise ValueError(f"status must be complete, diverged or failed, got {status!r}")
    path = Path(path)
    record = {
        "experiment": experiment,
        "run_id": run_id,
        "params": params,
        "status": status,
        "metrics": metrics,
        "final": final,
        "git_sha": _git_sha(),
        "versions": _versions(),
        "device": _device_name(device),
        "wall_time_s": wall_time_s,
        "extra": extra or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    partial.write_text(json.dumps(record, indent=1, allow_nan=True) + "\n")
    partial.replace(path)
    return path


def _execute(run: Run, device: str, results: Path, cache: Path) -> str:
    """Run one notebook through papermill; return its result status."""
    import jupytext
    import papermill

    result_path = run.result_path(results)
    output = cache / "runs" / run.experiment / f"{run.run_id}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    parameters = run.params | {
        "experiment": run.experiment,
        "run_id": run.run_id,
        "run_params": run.params,
        "device": device,
        "result_path": str(result_path),
        "checkpoint_path": str(run.checkpoint_path(cache)),
    }
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            jupytext.read(_notebook(run.experiment)),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            language="python",
            cwd=str(PROJECT),
            progress_bar=False,
        )
    except Exception:  # the notebook failed: record it, carry on with the grid
        if result_status(result_path) not in _FINISHED:
            write_result(
                result_path,
                experiment=run.experiment,
                run_id=run.run_id,
                params=run.params,
                status="failed",
                metrics=[],
                final={},
                wall_time_s=time.perf_counter() - start,
                device=device,
                extra={"error": traceback.format_exc(limit=3)[-4000:], "notebook": str(output)},
            )
    status = result_status(result_path)
    if status is None:
        raise RuntimeError(f"{run.run_id}: the notebook finished without writing {result_path}")
    return status


def run_experiment(
    runs: Iterable[Run],
    *,
    devices: Sequence[str] = ("cpu",),
    results: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    executor: str = "local",
    slurm: dict | None = None,
    log=print,
) -> dict[str, str]:
    """Execute the unfinished ``runs``, one at a time per device; return run → status.

    Parameters
    ----------
    runs : iterable of Run
        From :func:`expand`.
    devices : sequence of str
        ``("cpu",)`` or e.g. ``("cuda:0", "cuda:1")``: one concurrent run per device.
    results, cache : path, optional
        Default ``data/results`` and ``data/cache`` of the project.
    executor : {"local", "submitit-local", "slurm"}
        ``local`` runs papermill in this process. ``slurm`` submits each run as a
        SLURM job through ``submitit`` (``slurm`` holds its parameters, e.g.
        ``{"partition": "gpu", "gpus_per_node": 1, "timeout_min": 600}``);
        ``submitit-local`` is submitit's local executor (same code path, no cluster).
    """
    results = Path(results) if results is not None else PROJECT / "data" / "results"
    cache = Path(cache) if cache is not None else PROJECT / "data" / "cache"
    pending = [r for r in runs if result_status(r.result_path(results)) not in _FINISHED]
    done = {r.run_id: result_status(r.result_path(results)) for r in runs if r not in pending}
    for run_id, status in done.items():
        log(f"skip {run_id}: {status}")
    if not pending:
        return done
    if executor in ("slurm", "submitit-local"):
        import submitit

        folder = cache / "submitit"
        if executor == "slurm":
            ex = submitit.AutoExecutor(folder=folder)
            ex.update_parameters(**(slurm or {}))
        else:
            ex = submitit.LocalExecutor(folder=folder)
            ex.update_parameters(timeout_min=(slurm or {}).get("timeout_min", 60))
        jobs = [
            (run, ex.submit(_execute, run, devices[i % len(devices)], results, cache))
            for i, run in enumerate(pending)
        ]
        for run, job in jobs:
            done[run.run_id] = job.result()
            log(f"{run.run_id}: {done[run.run_id]}")
        return done
    if executor != "local":
        raise ValueError(f"executor must be local, submitit-local or slurm, got {executor!r}")
    free: Queue = Queue()
    for device in devices:
        free.put(device)

    def on_device(run: Run) -> tuple[str, str]:
        device = free.get()
        try:
            log(f"start {run.run_id} on {device}")
            return run.run_id, _execute(run, device, results, cache)
        finally:
            free.put(device)

    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        for run_id, status in pool.map(on_device, pending):
            done[run_id] = status
            log(f"{run_id}: {status}")
    return done


def load_results(experiment: str, results: str | os.PathLike | None = None) -> list[dict]:
    """Every valid result record of ``experiment``, sorted by run id."""
    folder = (Path(results) if results is not None else PROJECT / "data" / "results") / experiment
    records = []
    for path in sorted(folder.glob("*.json")):
        if result_status(path) is not None:
            records.append(json.loads(path.read_text()))
    return records


def report(
    experiment: str,
    *,
    metrics: Sequence[str] = ("test_accuracy", "test_loss"),
    results: str | os.PathLike | None = None,
):
    """Mean ± std over seeds of the final ``metrics``, one row per configuration.

    Returns
    -------
    pandas.DataFrame
        Index: the parameters that vary between configurations (plus ``profile``);
        columns: ``runs``, ``complete`` and ``<metric>_mean``/``<metric>_std``.
    """
    import pandas as pd

    records = load_results(experiment, results)
    if not records:
        raise FileNotFoundError(f"no results for {experiment!r} in {results or 'data/results'}")
    rows = []
    for r in records:
        row = {
            k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r["params"].items()
        }
        row["status"] = r["status"]
        row |= {m: r["final"].get(m) for m in metrics}
        rows.append(row)
    frame = pd.DataFrame(rows)
    params = [c for c in frame.columns if c not in ("seed", "status", *metrics)]
    varying = [c for c in params if frame[c].nunique(dropna=False) > 1]
    keys = ["profile", *[c for c in varying if c != "profile"]] if "profile" in frame else varying
    grouped = frame.groupby(keys, dropna=False) if keys else frame.groupby(lambda _: "all")
    table = grouped.agg(
        runs=("status", "size"), complete=("status", lambda s: int((s == "complete").sum()))
    )
    for m in metrics:
        table[f"{m}_mean"] = grouped[m].mean()
        table[f"{m}_std"] = grouped[m].std(ddof=1)
    return table
