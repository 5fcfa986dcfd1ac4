"""Forward+backward time of spectral pooling against max/avg pooling and a bare FFT pair.

Usage::

    python benchmarks/pooling.py            # the shapes of Rippel's net (5), ~1-2 min on a CPU
    python benchmarks/pooling.py --quick    # small batch, seconds
    python benchmarks/pooling.py --json results.json --device cuda

Each row times ``torch.autograd.grad(f(x), x, g)`` for float32 maps with
``torch.utils.benchmark.Timer.blocked_autorange`` and reports the median and its ratio to
``F.max_pool2d(x, 2)`` (2×2, stride 2) measured in the same run. ``spectral_pool`` runs with
its default ``impl="matrix"``, with ``impl="fft"`` (the ``torch.fft`` reference) and with a
frequency-dropout radius; ``rfft2+irfft2`` is a bare transform pair at the input size (the
floor of any FFT-based pooling).
"""

from __future__ import annotations

import argparse
import json
import platform

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from spectral.pooling import spectral_pool

# (N, C, H, W) → h: layers of Rippel's net (5) with γ = 0.85 and a 2× pooling layer.
SHAPES = [((128, 96, 32, 32), 27), ((128, 128, 27, 27), 22), ((128, 256, 16, 16), 8)]
QUICK_SHAPES = [((16, 96, 32, 32), 27), ((16, 128, 27, 27), 22), ((16, 256, 16, 16), 8)]


def methods(size: tuple[int, int], h: int) -> dict:
    radius = (h + h // 3) // 2  # a typical frequency-dropout draw from [⌊0.3h⌋, h]
    return {
        "max_pool2d 2×2": lambda x: F.max_pool2d(x, 2),
        "avg_pool2d 2×2": lambda x: F.avg_pool2d(x, 2),
        "spectral_pool (matrix)": lambda x: spectral_pool(x, h),
        f"spectral_pool (matrix, radius {radius})": lambda x: spectral_pool(x, h, radius=radius),
        "spectral_pool (fft)": lambda x: spectral_pool(x, h, impl="fft"),
        "rfft2+irfft2 pair": lambda x: torch.fft.irfft2(torch.fft.rfft2(x), s=size),
    }


def time_forward_backward(f, x: torch.Tensor, min_run_time: float) -> tuple[float, float]:
    """Median and interquartile range (s) of one forward+backward pass."""
    grad = torch.randn_like(f(x))
    timer = Timer(
        "torch.autograd.grad(f(x), x, grad)",
        globals={"f": f, "x": x, "grad": grad, "torch": torch},
        num_threads=torch.get_num_threads(),
    )
    measurement = timer.blocked_autorange(min_run_time=min_run_time)
    return measurement.median, measurement.iqr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 16 and short runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    min_run_time = 0.2 if args.quick else 1.0
    torch.manual_seed(0)

    header = f"{'input → output':<24}{'method':<38}{'median ms':>10}{'IQR ms':>9}{'× max':>8}"
    print(
        f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
        f"float32, forward+backward"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for shape, h in QUICK_SHAPES if args.quick else SHAPES:
        x = torch.randn(*shape, device=device, requires_grad=True)
        label = f"{'×'.join(map(str, shape))} → {h}"
        baseline = None
        for name, f in methods(shape[-2:], h).items():
            median, iqr = time_forward_backward(f, x, min_run_time)
            baseline = baseline or median
            rows.append(
                {
                    "shape": list(shape),
                    "output": h,
                    "method": name,
                    "median_s": median,
                    "iqr_s": iqr,
                    "ratio_to_max_pool": median / baseline,
                }
            )
            ms, ratio = median * 1e3, median / baseline
            print(f"{label:<24}{name:<38}{ms:>10.1f}{iqr * 1e3:>9.1f}{ratio:>8.2f}")
            label = ""
    if args.json:
        meta = {
            "torch": torch.__version__,
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "quick": args.quick,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
