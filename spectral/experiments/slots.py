"""Device slots: one concurrent run per slot, and the torch threads each run gets."""

from __future__ import annotations

import os
from collections.abc import Sequence

from spectral.experiments.errors import ExperimentError

__all__ = ["DEFAULT_CPU_DEVICES", "check_bf16", "cpu_count", "devices", "threads_per_slot"]

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


def check_bf16(pending: Sequence, devices: Sequence[str]) -> None:
    """Refuse ``amp="bf16"`` runs for CPU slots where the CPU has no native bfloat16.

    Raises
    ------
    ExperimentError
        Naming how many runs, why (:func:`spectral.train.native_bf16`) and the three ways
        on: another device, float32 runs (``-p amp=null``), ``--allow-emulated-bf16``.
    """
    from spectral.train import native_bf16

    bf16 = [r for r in pending if r.params.get("amp") == "bf16"]
    if not bf16 or not any(d.startswith("cpu") for d in devices) or native_bf16("cpu"):
        return
    raise ExperimentError(
        f"{len(bf16)} of the {len(pending)} runs to do use amp='bf16', but this CPU has no "
        "native bfloat16 (oneDNN finds neither AVX-512-BF16 nor AMX), so their convolutions "
        "would run in reference kernels, many times slower than float32. Run them on a CPU "
        "with native bf16 or a GPU (--devices cuda:0); or train in float32 with "
        "-p amp=null (other run ids: not the same runs); or pass --allow-emulated-bf16 "
        "to run them here anyway"
    )
