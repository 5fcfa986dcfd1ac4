"""Device slots: one concurrent run per slot, and the torch threads each run gets."""

from __future__ import annotations

import os
from collections.abc import Sequence

from spectral.experiments.errors import ExperimentError

__all__ = ["DEFAULT_CPU_DEVICES", "cpu_count", "devices", "threads_per_slot"]

#: Default ``--devices``: two CPU slots, i.e. two runs side by side, each with half the
#: cores. ``benchmarks/engine.py`` measured on the book's 2-core CPU that two one-thread
#: runs finish a grid 9 % sooner than one two-thread run at a time
#: (``data/benchmarks/engine.json``, ``arrangement``); ``--devices cpu`` runs one at a time.
DEFAULT_CPU_DEVICES = "cpu,cpu"


def devices(names: Sequence[str] | None) -> list[str]:
    """The slots ``names`` (default :data:`DEFAULT_CPU_DEVICES`), stripped, blanks dropped.

    Raises
    ------
    ExperimentError
        If no slot is left.
    """
    slots = [d.strip() for d in (names or DEFAULT_CPU_DEVICES.split(",")) if d.strip()]
    if not slots:
        raise ExperimentError("--devices is empty; give e.g. cpu, cpu,cpu or cuda:0,cuda:1")
    return slots


def cpu_count() -> int:
    """The cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_slot(slots: Sequence[str]) -> int:
    """Torch threads per slot: the cores shared evenly by the slots, at least one."""
    return max(1, cpu_count() // len(slots))
