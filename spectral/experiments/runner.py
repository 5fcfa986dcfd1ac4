"""Executing a grid: skip what is finished, check the results folder, hand the rest on.

Runs whose result is complete (or diverged) are skipped; a missing, corrupt or failed
result is redone, by the local executor (:mod:`spectral.experiments.local`) or as
submitit jobs (:mod:`spectral.experiments.jobs`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from spectral.experiments import paths, slots
from spectral.experiments.budget import Budget
from spectral.experiments.errors import ExperimentError
from spectral.experiments.grid import Run
from spectral.experiments.jobs import run_jobs
from spectral.experiments.local import run_local
from spectral.experiments.messages import skip_line
from spectral.experiments.provenance import device_name
from spectral.experiments.records import FINISHED, result_status

__all__ = ["run_experiment"]


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and write and delete a probe file in it, or raise ExperimentError."""
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ExperimentError(
            f"results folder {folder} is not writable ({error.strerror or error}); "
            "fix its permissions or choose another with --results"
        ) from None


def run_experiment(
    runs: Iterable[Run],
    *,
    devices: Sequence[str] | None = None,
    results: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    executor: str = "local",
    slurm: dict | None = None,
    log: Callable[[str], object] = print,
    progress: bool = False,
    allow_emulated_bf16: bool = False,
    budget_s: float | None = None,
) -> dict[str, str]:
    """Execute the unfinished ``runs``, one at a time per device slot; return run → status.

    Parameters
    ----------
    runs : iterable of Run
        From :func:`~spectral.experiments.grid.expand`.
    devices : sequence of str, optional
        Slots, one concurrent run each: ``("cpu",)``, ``("cpu", "cpu")`` (two CPU runs
        side by side) or e.g. ``("cuda:0", "cuda:1")``; default
        :data:`~spectral.experiments.slots.DEFAULT_CPU_DEVICES`. Each run gets
        ``max(1, cores // slots)`` torch threads (the injected ``threads``).
    results, cache : path, optional
        Default ``data/results`` and ``data/cache`` of the project.
    executor : {"local", "submitit-local", "slurm"}
        ``local`` runs each notebook in a subprocess of this one. ``slurm`` submits each
        run as a SLURM job through ``submitit`` (``slurm`` holds its parameters, e.g.
        ``{"partition": "gpu", "gpus_per_node": 1, "timeout_min": 600}``) and fails if no
        cluster is reachable; ``submitit-local`` is submitit's local executor.
    log : callable
        Receives each line: skips, starts, outcomes (a failure with its error's last line
        and the executed notebook) and the runs' own output (each line prefixed with
        ``[run_id]`` when several slots run at once).
    progress : bool
        Show a bar over the grid (runs finished / total) on stderr.
    allow_emulated_bf16 : bool
        Run ``amp="bf16"`` runs on CPU slots even where the CPU has no native bfloat16
        (:func:`spectral.train.native_bf16`); by default the local executors refuse them.
    budget_s : float, optional
        Local executors: start a run only if it is expected to finish within this many
        seconds from now (:class:`~spectral.experiments.budget.Budget`); the others are
        ``not started``.

    Returns
    -------
    dict
        Run id → ``complete``, ``diverged``, ``failed``, ``running elsewhere`` (another
        runner holds its lock) or ``not started`` (the budget).

    Raises
    ------
    ExperimentError
        Before running anything: an unknown executor, no SLURM cluster, an unwritable
        results folder, ``amp="bf16"`` runs for CPU slots without native bfloat16, a
        budget for the SLURM executor.
    Interrupted
        On Ctrl-C (local executor): the running kernels are interrupted, their
        checkpoints kept; the message says what finished and what was stopped.
    """
    from tqdm import tqdm

    if executor not in ("local", "submitit-local", "slurm"):
        raise ExperimentError(f"executor must be local, submitit-local or slurm, got {executor!r}")
    if budget_s is not None and executor != "local":
        raise ExperimentError("--budget works with the local executor only")
    results, cache = paths.results_folder(results), paths.cache_folder(cache)
    runs, devices = list(runs), slots.devices(devices)
    statuses = {r.run_id: result_status(r.recorded_path(results)) for r in runs}
    pending = [r for r in runs if statuses[r.run_id] not in FINISHED]
    done = {k: v for k, v in statuses.items() if v in FINISHED}
    for run in runs:
        if run.run_id in done:
            log(skip_line(run, done[run.run_id], results))
    if not pending:
        return done
    for experiment in sorted({r.experiment for r in pending}):
        _check_writable(results / experiment)
    if executor != "slurm" and not allow_emulated_bf16:  # SLURM jobs run on other hosts
        slots.check_bf16(pending, devices)
    with tqdm(
        total=len(runs),
        initial=len(done),
        desc=pending[0].experiment,
        unit="run",
        file=sys.stderr,
        disable=None if progress else True,  # None: only on a terminal
    ) as bar:
        if executor == "local":
            threads = slots.threads_per_slot(devices)
            budget = None if budget_s is None else Budget(
                budget_s, results, {d: device_name(d, threads) for d in devices}
            )
            return done | run_local(pending, devices, results, cache, log, bar, budget)
        return done | run_jobs(pending, devices, results, cache, executor, slurm or {}, log, bar)
