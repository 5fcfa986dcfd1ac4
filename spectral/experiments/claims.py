"""Taking a run: its lock, a second look at its status, and its stale checkpoints.

A per-run lock (``data/cache/locks/<experiment>/<run_id>.lock``) lets several runners
share one grid: a run whose lock another runner holds is :data:`RUNNING_ELSEWHERE`.
A checkpoint under the run's id but another key (other parameters or notebook source)
is moved to ``stale/`` rather than resumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from spectral.experiments.grid import Run
from spectral.experiments.records import FINISHED, result_status

__all__ = ["RUNNING_ELSEWHERE", "claim", "is_running", "retire_stale_checkpoints", "run_claimed"]

#: The status of a run that another runner holds the lock of.
RUNNING_ELSEWHERE = "running elsewhere"


@contextmanager
def claim(run: Run, cache: Path) -> Iterator[bool]:
    """Hold the run's lock while the block runs; yield ``False`` if another runner holds it."""
    import filelock

    path = run.lock_path(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        claimed = False
    else:
        claimed = True
    try:
        yield claimed
    finally:
        if claimed:
            lock.release()


def is_running(run: Run, cache: Path) -> bool:
    """Whether another runner holds the run's lock now."""
    if not run.lock_path(cache).exists():
        return False
    with claim(run, cache) as claimed:
        return not claimed


def run_claimed(
    run: Run, results: Path, cache: Path, execute: Callable[[], str | None]
) -> str | None:
    """``execute()`` under the run's lock, unless the run is finished by now.

    Returns :data:`RUNNING_ELSEWHERE` if another runner holds the lock, the recorded
    status if the run finished meanwhile, and otherwise what ``execute()`` returns.
    """
    with claim(run, cache) as claimed:
        if not claimed:
            return RUNNING_ELSEWHERE
        status = result_status(run.recorded_path(results))
        return status if status in FINISHED else execute()


def retire_stale_checkpoints(run: Run, cache: Path, log: Callable[[str], object]) -> None:
    """Move the run's checkpoints of other parameters (or the unkeyed one) into ``stale/``."""
    current = run.checkpoint_path(cache)
    if not current.parent.is_dir():
        return
    ids = "|".join(re.escape(i) for i in (run.run_id, run.legacy_id) if i)
    own = re.compile(f"({ids})(-[0-9a-f]{{12}})?\\.pt")
    for path in sorted(current.parent.iterdir()):
        if path != current and own.fullmatch(path.name):
            stale = current.parent / "stale" / path.name
            stale.parent.mkdir(exist_ok=True)
            path.replace(stale)
            log(
                f"{run.run_id}: moved checkpoint {path.name} to {stale.parent} "
                "(other parameters or notebook version; not resumed)"
            )
