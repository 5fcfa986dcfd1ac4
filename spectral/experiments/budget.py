"""A time budget for a grid: start a run only if it can finish before the budget ends.

A run's expected time is its epochs (the profile's, else the notebook's default) times the
mean ``epoch_time_s`` of the finished runs of the same experiment and profile measured on
the same device (:func:`~spectral.experiments.provenance.device_name`: model, threads and
bf16 support); with no such measurement the run starts without an estimate. A run whose
patience stops it early takes less than expected, never more than its epochs allow.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from spectral.experiments.errors import ExperimentError
from spectral.experiments.grid import Run
from spectral.experiments.parameters import notebook_parameters
from spectral.experiments.records import FINISHED, load_results

__all__ = ["NOT_STARTED", "Budget", "duration", "epoch_times", "parse_budget", "planned_epochs"]

#: The status of a run the budget did not start.
NOT_STARTED = "not started"

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_budget(text: str) -> float:
    """Seconds of ``2h``, ``90m``, ``1h30m``, ``45s`` (hours, minutes, seconds; in order).

    Raises
    ------
    ExperimentError
        For anything else, or a zero budget.
    """
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ExperimentError(
            f"--budget takes a duration such as 2h, 90m or 1h30m, got {text!r}"
        )
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if total == 0:
        raise ExperimentError("--budget must be longer than 0s")
    return float(total)


def duration(seconds: float) -> str:
    """``1h 05m``, ``3m 20s``, ``45s``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def epoch_times(record: Mapping) -> list[float]:
    """The finite ``epoch_time_s`` values of a result record's epochs."""
    times = [m.get("epoch_time_s") for m in record["metrics"] if isinstance(m, dict)]
    return [t for t in times if isinstance(t, int | float) and math.isfinite(t)]


def planned_epochs(run: Run, defaults: Mapping | None = None) -> int:
    """The epochs ``run`` trains at most: its profile's, else the notebook's default
    (``defaults``, or read from the notebook), else 1."""
    if defaults is None:
        defaults = notebook_parameters(run.experiment)
    return run.params.get("epochs") or defaults.get("epochs") or 1


class Budget:
    """Which runs may still start: :meth:`admits` before each start.

    Parameters
    ----------
    seconds : float
        The budget, counted from construction.
    results : Path
        The results folder whose records hold the measured epoch times.
    device_names : mapping
        Slot (``"cpu"``, ``"cuda:0"``) → the device name its runs record.
    clock : callable
        Seconds, monotonic (for tests).
    """

    def __init__(
        self,
        seconds: float,
        results: Path,
        device_names: Mapping[str, str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.results, self.device_names, self.clock = results, dict(device_names), clock
        self.deadline = clock() + seconds

    def _epoch_seconds(self, run: Run, name: str) -> float | None:
        times = [
            t
            for r in load_results(run.experiment, self.results)
            if r["status"] in FINISHED and r.get("device") == name
            and r["params"].get("profile") == run.params.get("profile")
            for t in epoch_times(r)
        ]
        return sum(times) / len(times) if times else None

    def admits(self, run: Run, slot: str) -> tuple[bool, str | None]:
        """``(start?, line to log or None)`` for ``run`` on ``slot`` now."""
        name = self.device_names[slot]
        per_epoch = self._epoch_seconds(run, name)
        left = self.deadline - self.clock()
        if per_epoch is None:
            if left <= 0:
                return False, f"not started {run.run_id}: the budget is spent"
            return True, f"{run.run_id}: no epoch time measured on {name} yet; no estimate"
        epochs = planned_epochs(run)
        expected = epochs * per_epoch
        if expected <= left:
            return True, None
        return False, (
            f"not started {run.run_id}: expected {duration(expected)} ({epochs} epochs × "
            f"{per_epoch:.0f} s on {name}), {duration(max(left, 0))} of the budget left"
        )
