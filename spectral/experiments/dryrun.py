"""The dry run: each run's state (done, pending, running elsewhere) and an ETA from the
epoch times that earlier results measured."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from spectral.experiments import paths, slots
from spectral.experiments.budget import duration, epoch_times, planned_epochs
from spectral.experiments.claims import is_running
from spectral.experiments.errors import ExperimentError
from spectral.experiments.grid import Run
from spectral.experiments.messages import count
from spectral.experiments.parameters import notebook_parameters
from spectral.experiments.records import FINISHED, load_results, result_status

__all__ = ["describe"]


def _epoch_times(runs: Sequence[Run], results: Path) -> tuple[list[float], set[str]]:
    """Measured ``epoch_time_s`` of every result of the runs' experiments and profiles, and
    the devices that measured them."""
    cells = {(r.experiment, r.params.get("profile")) for r in runs}
    times, devices = [], set()
    for experiment in sorted({e for e, _ in cells}):
        for record in load_results(experiment, results):
            if (experiment, record["params"].get("profile")) not in cells:
                continue
            mine = epoch_times(record)
            times += mine
            if mine and isinstance(record.get("device"), str):
                devices.add(record["device"])
    return times, devices


def _eta(pending: Sequence[Run], n_slots: int, results: Path) -> str:
    if not pending:
        return "ETA: nothing to run"
    times, measured_on = _epoch_times(pending, results)
    if not times:
        return "ETA: no measured epoch times yet"
    per_epoch = sum(times) / len(times)
    defaults = {e: notebook_parameters(e) for e in {r.experiment for r in pending}}
    epochs = sum(planned_epochs(r, defaults[r.experiment]) for r in pending)
    where = f" on {'; '.join(sorted(measured_on))}" if measured_on else ""
    return (
        f"ETA: {duration(per_epoch * epochs / n_slots)} ({epochs} pending epochs × "
        f"{per_epoch:.1f} s/epoch measured over {len(times)} epochs{where} ÷ {n_slots} slot(s))"
    )


def describe(
    runs: Iterable[Run],
    *,
    devices: Sequence[str] | None = None,
    results: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> list[str]:
    """The dry run: one line per run (id, done/pending/running, parameters), the count, an ETA.

    The ETA is the mean measured ``epoch_time_s`` of the existing results of the same
    experiment and profile, times the pending runs' epochs, divided by the slots; it names
    the devices that measured them (another CPU can be several times slower). A last
    ``warning:`` line says when the run would refuse bf16 runs on this CPU
    (:func:`~spectral.experiments.slots.check_bf16`).
    """
    results, cache = paths.results_folder(results), paths.cache_folder(cache)
    runs, devices = list(runs), slots.devices(devices)
    lines, pending, counts = [], [], {"done": 0, "pending": 0, "running": 0}
    for run in runs:
        if result_status(run.recorded_path(results)) in FINISHED:
            state = "done"
        elif is_running(run, cache):
            state = "running"
        else:
            state = "pending"
            pending.append(run)
        counts[state] += 1
        lines.append(f"{run.run_id}  {state}  {json.dumps(run.params)}")
    lines.append(f"{count(len(runs))}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    lines.append(_eta(pending, len(devices), results))
    try:
        slots.check_bf16(pending, devices)
    except ExperimentError as error:
        lines.append(f"warning: {error}")
    return lines
