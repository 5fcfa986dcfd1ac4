"""The lines that tell the user what became of each run."""

from __future__ import annotations

from pathlib import Path

from spectral.experiments.claims import RUNNING_ELSEWHERE
from spectral.experiments.grid import Run
from spectral.experiments.records import read_record

__all__ = ["count", "outcome", "skip_line"]


def count(n: int) -> str:
    """``1 run``, ``3 runs``."""
    return "1 run" if n == 1 else f"{n} runs"


def skip_line(run: Run, status: str, results: Path) -> str:
    """The line for a run finished before: ``skip <id>: <status>`` and where it is recorded."""
    path = run.recorded_path(results)
    where = "" if path == run.result_path(results) else f" (recorded as {path.name})"
    return f"skip {run.run_id}: {status}{where}"


def outcome(run: Run, status: str, results: Path) -> str:
    """The line that reports a finished run: the error's last line for a failure."""
    if status == RUNNING_ELSEWHERE:
        return f"skip {run.run_id}: running elsewhere"
    if status != "failed":
        return f"{run.run_id}: {status}"
    extra = (read_record(run.result_path(results)) or {}).get("extra") or {}
    return f"{run.run_id}: failed: {extra.get('error')} (notebook: {extra.get('notebook')})"
