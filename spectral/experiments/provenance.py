"""What produced a result: the git revision, the library versions and the device."""

from __future__ import annotations

import platform
import subprocess

from spectral.experiments import paths

__all__ = ["provenance"]


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


def _device_name(device: str) -> str:
    """``device`` and what it is: ``cuda:0 (NVIDIA H200)``, ``cpu (x86_64, 2 threads)``."""
    import torch

    device = str(device)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return f"{device} (CUDA not available)"
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    if device == "cpu":
        cpu = platform.processor() or platform.machine()
        return f"cpu ({cpu}, {torch.get_num_threads()} threads)"
    return device


def provenance(device: str) -> dict:
    """``git_sha`` (``None`` outside a git checkout), ``versions`` and ``device``'s name."""
    return {"git_sha": _git_sha(), "versions": _versions(), "device": _device_name(device)}
