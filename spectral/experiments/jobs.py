"""The submitit executors: each run as a job, on SLURM or submitit's local executor.

A job takes the run's lock, retires its stale checkpoints and executes the notebook
in the job's own process with all of its cores; a job that dies (time limit, node
failure) is recorded as a failed run.
"""

from __future__ import annotations

from pathlib import Path

from spectral.experiments.claims import retire_stale_checkpoints, run_claimed
from spectral.experiments.errors import ExperimentError
from spectral.experiments.execute import last_line, record_failure, run_notebook
from spectral.experiments.grid import Run
from spectral.experiments.messages import outcome
from spectral.experiments.slots import cpu_count

__all__ = ["run_jobs"]


def _executor(executor: str, slurm: dict, cache: Path):
    import submitit

    folder = cache / "submitit"
    if executor == "submitit-local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=slurm.get("timeout_min", 60))
        return ex
    ex = submitit.AutoExecutor(folder=folder)
    if ex.cluster != "slurm":  # submitit falls back to a local run without saying so
        raise ExperimentError(
            "--executor slurm: no SLURM cluster reachable from here (sbatch not found); "
            "submit from a cluster login node, or use --executor local"
        )
    ex.update_parameters(**slurm)
    return ex


def _job(run: Run, device: str, results: Path, cache: Path) -> str | None:
    """One run as a submitit job: lock, retire stale checkpoints, execute in-process."""

    def start() -> str | None:
        retire_stale_checkpoints(run, cache, print)
        return run_notebook(run, device, cpu_count(), results, cache)

    return run_claimed(run, results, cache, start)


def run_jobs(pending, devices, results, cache, executor, slurm, log, bar) -> dict[str, str]:
    """Submit ``pending`` as jobs (devices assigned in turn), wait; run id → status.

    ``executor`` is ``"slurm"`` or ``"submitit-local"``; ``slurm`` holds submitit's
    parameters. Each outcome goes to ``log`` and advances the progress ``bar``.

    Raises
    ------
    ExperimentError
        For ``"slurm"`` where no SLURM cluster is reachable, before submitting anything.
    """
    ex = _executor(executor, slurm, cache)
    jobs = [
        (run, ex.submit(_job, run, devices[i % len(devices)], results, cache))
        for i, run in enumerate(pending)
    ]
    out = {}
    for run, job in jobs:
        try:
            out[run.run_id] = job.result()
        except Exception as error:  # the job itself died (time limit, node failure)
            record_failure(run, devices[0], results, cache, last_line(error))
            out[run.run_id] = "failed"
        log(outcome(run, out[run.run_id], results))
        bar.update()
    return out
