"""Result files: one strict-JSON record per run, written atomically, read defensively.

A record holds ``experiment``, ``run_id``, ``params``, ``status`` (one of
``STATUSES``), per-epoch ``metrics``, ``final`` metrics, its provenance (git
revision, versions, device), ``wall_time_s`` and ``extra``. A file that is missing,
not JSON or lacks any of that is no result at all, so the runner redoes its run.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from spectral._io import atomic_write
from spectral.experiments import paths
from spectral.experiments.provenance import provenance

__all__ = ["FINISHED", "STATUSES", "load_results", "read_record", "result_status", "write_result"]

#: How a run can end.
STATUSES = ("complete", "diverged", "failed")
#: The statuses of runs that are not redone.
FINISHED = ("complete", "diverged")
_REQUIRED = ("experiment", "run_id", "params", "status", "metrics", "final")


def read_record(path: Path) -> dict | None:
    """The result record in ``path``, or ``None`` if missing, not JSON or malformed."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    valid = (
        isinstance(data, dict)
        and all(k in data for k in _REQUIRED)
        and data["status"] in STATUSES
        and isinstance(data["params"], dict)
        and isinstance(data["final"], dict)
        and isinstance(data["metrics"], list)
    )
    return data if valid else None


def result_status(path: Path) -> str | None:
    """``status`` of a result file, or ``None`` if it is missing or not a valid result.

    Valid means JSON with the required keys, a known status, ``params`` and ``final``
    dicts and a ``metrics`` list.
    """
    record = read_record(path)
    return record["status"] if record else None


def _finite(value):
    """``value`` with every non-finite float (NaN, ±inf) replaced by ``None``, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_result(
    path: str | os.PathLike,
    *,
    experiment: str,
    run_id: str,
    params: dict,
    status: str,
    metrics: list[dict],
    final: dict,
    wall_time_s: float | None = None,
    device: str = "cpu",
    extra: dict | None = None,
) -> Path:
    """Write one run's result as strict JSON, atomically (temp file, fsync, rename).

    Parameters
    ----------
    path : path
        The result file, usually the injected ``result_path``.
    experiment, run_id : str
        The injected names.
    params : dict
        The injected ``run_params``.
    status : {"complete", "diverged", "failed"}
        How the run ended.
    metrics : list of dict
        One record per epoch (``epoch_time_s`` in each feeds the dry run's ETA).
    final : dict
        Final metrics.
    wall_time_s : float, optional
        Training time, computed by the caller (over all resumed segments).
    device : str
        The injected ``device``; recorded with its name, e.g. ``cuda:0 (NVIDIA H200)``.
    extra : dict, optional
        Anything else worth keeping.

    Returns
    -------
    Path
        ``path``. NaN and infinite floats anywhere in the record are written as ``null``.

    Raises
    ------
    ValueError
        If ``status`` is not one of ``STATUSES``.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be complete, diverged or failed, got {status!r}")
    record = {
        "experiment": experiment, "run_id": run_id, "params": params, "status": status,
        "metrics": metrics, "final": final, **provenance(device),
        "wall_time_s": wall_time_s, "extra": extra or {},
    }  # fmt: skip
    text = json.dumps(_finite(record), indent=1, allow_nan=False) + "\n"
    return atomic_write(path, text.encode())


def load_results(experiment: str, results: str | os.PathLike | None = None) -> list[dict]:
    """Every valid result record of ``experiment`` (see :func:`result_status`), by run id.

    ``results`` is the results folder, by default the project's ``data/results``.
    """
    folder = paths.results_folder(results) / experiment
    records = (read_record(path) for path in sorted(folder.glob("*.json")))
    return [r for r in records if r is not None]
