"""What produced a result: the git revision, the library versions and the device."""

from __future__ import annotations

import platform
import subprocess

from spectral.experiments import paths

__all__ = ["device_name", "provenance"]


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=paths.project(),
            capture_output=True,
            text=True,
            timeout=10,
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


def _cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else the platform's processor or
    machine type."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str, threads: int | None = None) -> str:
    """``device`` and what it is: ``cuda:0 (NVIDIA H200)``,
    ``cpu (AMD EPYC, x86_64, 2 threads, no native bf16)``: epoch times depend on all of it.

    ``threads``: the torch threads a CPU run uses (default: this process's).
    """
    import torch

    from spectral.train import native_bf16

    device = str(device)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return f"{device} (CUDA not available)"
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    if device == "cpu":
        bf16 = "native bf16" if native_bf16("cpu") else "no native bf16"
        threads = threads or torch.get_num_threads()
        return f"cpu ({_cpu_model()}, {platform.machine()}, {threads} threads, {bf16})"
    return device


def provenance(device: str) -> dict:
    """``git_sha`` (``None`` outside a git checkout), ``versions`` and ``device``'s name."""
    return {"git_sha": _git_sha(), "versions": _versions(), "device": device_name(device)}
