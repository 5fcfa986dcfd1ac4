"""Forward+backward time of spectral pooling against max/avg pooling and a bare FFT pair.

Usage::

    python benchmarks/pooling.py            # Rippel's net (5) layers, batch 128, minutes on a CPU
    python benchmarks/pooling.py --quick    # batch 16, short runs, under a minute
    python benchmarks/pooling.py --json results.json --device cuda

Each row times ``torch.autograd.grad(f(x), x, g)`` with
``torch.utils.benchmark.Timer.blocked_autorange`` and reports the median and its ratio to
``F.max_pool2d(x, 2)`` (2×2, stride 2) measured in the same run, in two precisions:
``float32`` maps, and ``bf16 autocast``, where the maps are bfloat16 (a convolution's
output under autocast) and every method runs inside ``torch.autocast(dtype=bfloat16)``
(spectral pooling then computes in float32 and returns bfloat16, the package's policy).
``spectral_pool`` runs with its default ``impl="matrix"`` and Nyquist rule ``"fold"``,
with ``nyquist="hermitian"`` (the former default, one rank-1 term more), with a
frequency-dropout radius and with ``impl="fft"`` (the ``torch.fft`` reference);
``rfft2+irfft2`` is a bare transform pair at the input size (the floor of any FFT-based
pooling). Each method is timed ``--repeats`` times, interleaved with the others, and
keeps its fastest median, so that a burst of load from other processes on a shared machine
hits one round, not one method. The last lines summarise the default's ratio to max
pooling per precision. Times are measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import platform

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from spectral.memory import keep_freed_memory
from spectral.pooling import spectral_pool

# (C, H, W) → h: layers of Rippel's net (5) with γ = 0.85 and a 2× pooling layer.
LAYERS = [((96, 32, 32), 27), ((128, 27, 27), 22), ((256, 16, 16), 8)]
PRECISIONS = ("float32", "bf16 autocast")
DEFAULT = "spectral_pool (matrix, fold)"


def methods(size: tuple[int, int], h: int) -> dict:
    radius = (h + h // 3) // 2  # a typical frequency-dropout draw from [⌊0.3h⌋, h]
    return {
        "max_pool2d 2×2": lambda x: F.max_pool2d(x, 2),
        "avg_pool2d 2×2": lambda x: F.avg_pool2d(x, 2),
        DEFAULT: lambda x: spectral_pool(x, h),
        "spectral_pool (matrix, hermitian)": lambda x: spectral_pool(x, h, nyquist="hermitian"),
        f"spectral_pool (matrix, fold, radius {radius})": lambda x: spectral_pool(
            x, h, radius=radius
        ),
        "spectral_pool (fft, fold)": lambda x: spectral_pool(x, h, impl="fft"),
        "rfft2+irfft2 pair": lambda x: torch.fft.irfft2(torch.fft.rfft2(x.float()), s=size),
    }


def in_precision(f, precision: str, device_type: str):
    """``f`` as it runs in a network of that precision (see the module doc)."""
    if precision == "float32":
        return f

    def under_autocast(x):
        with torch.autocast(device_type, dtype=torch.bfloat16):
            return f(x)

    return under_autocast


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


def fastest(fs: dict, x: torch.Tensor, min_run_time: float, repeats: int) -> dict:
    """``name -> (median, iqr)`` of the fastest of ``repeats`` interleaved rounds."""
    best = {}
    for _ in range(repeats):
        for name, f in fs.items():
            median, iqr = time_forward_backward(f, x, min_run_time)
            if name not in best or median < best[name][0]:
                best[name] = (median, iqr)
    return best


def run_table(args, device: torch.device) -> list[dict]:
    """Time every method, layer and precision; print one row each and return them."""
    min_run_time = 0.2 if args.quick else 1.0
    header = f"{'input → output':<22}{'precision':<15}{'method':<44}{'median ms':>10}{'× max':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for (channels, height, width), h in LAYERS:
        shape = (args.batch, channels, height, width)
        label = f"{'×'.join(map(str, shape))} → {h}"
        for precision in PRECISIONS:
            dtype = torch.float32 if precision == "float32" else torch.bfloat16
            x = torch.randn(*shape, device=device, dtype=dtype, requires_grad=True)
            runs = {name: in_precision(f, precision, device.type)
                    for name, f in methods((height, width), h).items()}  # fmt: skip
            times = fastest(runs, x, min_run_time, args.repeats)
            baseline = times["max_pool2d 2×2"][0]
            for name, (median, iqr) in times.items():
                ratio = median / baseline
                rows.append(
                    {"shape": list(shape), "output": h, "precision": precision, "method": name,
                     "median_s": median, "iqr_s": iqr, "ratio_to_max_pool": ratio}
                )  # fmt: skip
                print(f"{label:<22}{precision:<15}{name:<44}{median * 1e3:>10.2f}{ratio:>8.2f}")
                label = ""
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 16 and short runs")
    parser.add_argument("--batch", type=int, help="batch size (default 128, 16 with --quick)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--repeats", type=int, help="interleaved rounds (default 3, 1 with --quick)"
    )
    args = parser.parse_args()
    keep_freed_memory()  # as the runner's CPU training processes (spectral.memory)
    args.batch = args.batch or (16 if args.quick else 128)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
        f"batch {args.batch}, forward+backward, fastest of {args.repeats} rounds"
    )
    rows = run_table(args, device)
    for precision in PRECISIONS:
        ratios = [r["ratio_to_max_pool"] for r in rows
                  if r["method"] == DEFAULT and r["precision"] == precision]  # fmt: skip
        print(
            f"{DEFAULT} / max_pool2d, {precision}, batch {args.batch}: "
            f"{min(ratios):.2f}–{max(ratios):.2f}×"
        )
    if args.json:
        meta = {
            "torch": torch.__version__,
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "batch": args.batch,
            "repeats": args.repeats,
            "quick": args.quick,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
