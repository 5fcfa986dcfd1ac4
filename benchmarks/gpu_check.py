"""The spectral layers on one GPU: bf16/fp16 autocast against float64, and epoch times.

Usage: ``.venv/bin/python benchmarks/gpu_check.py [--device cuda:0] [--out PATH] [--steps N]``

A script, not a test (CI never runs it). On one CUDA device, within about 8 minutes:

1. **Checks.** Every spectral layer (Spectral Batch Normalization, both ``impl``, train
   and eval; spectral pooling at odd, even and non-square sizes, both ``impl``, with a
   frequency-dropout radius; frequency masks; ``MaskedConv2d``; a convolution with
   spectral filters) runs forward and backward under ``torch.autocast`` with bfloat16
   and with float16, on a ``channels_last`` input of that dtype with its parameters in
   float32 (the package's policy, :mod:`spectral._validate`: the output has the input's
   dtype). Output, input gradient, parameter gradients and updated buffers are compared
   with the same layer in float64 on the CPU, on the same (up-cast) inputs, by the
   relative error ``‖a − ref‖ / ‖ref‖``; a layer passes below ``1e-2`` (bfloat16) or
   ``3e-3`` (float16), about ten times the error of rounding the output once.
2. **Timings.** The engine's fast path (bf16 autocast, ``channels_last`` model and
   batches, SGD with momentum) for ResNet-20, ResNet-18 and ResNet-18 + SBN34 on random
   CIFAR-10-sized data: ``--steps`` timed training steps at batch 128 after 3 warm-up
   steps, extrapolated to one epoch of 50,000 images (no data loading).

Writes ``data/results/gpu_check/<device-name>-<date>.json`` (or ``--out``) with the
errors, pass/fail per layer and dtype, and the timings, and prints a short table. Exits
with status 1 when a check fails. ``--device cpu`` is a dry run of the same code in well
under a minute (the same checks, the timings at width 0.125, batch 8, 2 steps); its JSON
says ``"dry_run": true``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spectral._io import atomic_write
from spectral.masks import FrequencyMask, MaskedConv2d
from spectral.models import norm_variant, resnet18, resnet20
from spectral.parametrize import spectral_parametrize
from spectral.pooling import SpectralPool2d
from spectral.testing import FixedRadiusPool, randomized_sbn

TOLERANCE = {torch.bfloat16: 1e-2, torch.float16: 3e-3}
BUDGET_S = 8 * 60
CIFAR_TRAIN = 50_000
WARMUP = 3
RESULTS = Path(__file__).resolve().parents[1] / "data" / "results" / "gpu_check"


def _masked_conv() -> nn.Module:
    """A masked convolution whose mask passes the DC term (else the bias gradient is 0)."""
    conv = MaskedConv2d(32, 64, 3, padding=1, input_size=(32, 32))
    with torch.no_grad():
        conv.mask.latent[0, 0] = 1.0
    return conv


#: name: (layer factory, input shape); ResNet-like shapes at batch 16.
LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple[int, int, int, int]]] = {
    "SBN spatial train": (lambda: randomized_sbn(64, "spatial", True), (16, 64, 16, 16)),
    "SBN spatial train odd": (lambda: randomized_sbn(64, "spatial", True), (16, 64, 7, 7)),
    "SBN spatial eval": (lambda: randomized_sbn(64, "spatial", False), (16, 64, 16, 16)),
    "SBN fft train": (lambda: randomized_sbn(64, "fft", True), (16, 64, 16, 16)),
    "SBN fft eval": (lambda: randomized_sbn(64, "fft", False), (16, 64, 7, 7)),
    "pool 32->27 (odd)": (lambda: SpectralPool2d(27), (16, 32, 32, 32)),
    "pool 32->16 (even)": (lambda: SpectralPool2d(16), (16, 32, 32, 32)),
    "pool 32->24x19": (lambda: SpectralPool2d((24, 19)), (16, 32, 32, 32)),
    "pool fft 32->24x19": (lambda: SpectralPool2d((24, 19), impl="fft"), (16, 32, 32, 32)),
    "pool radius 27/(14,12)": (lambda: FixedRadiusPool((27, 27), (14, 12)), (16, 32, 32, 32)),
    "FrequencyMask": (lambda: FrequencyMask(32, 32), (16, 32, 32, 32)),
    "FrequencyMask per-channel": (lambda: FrequencyMask(16, 16, channels=64), (16, 64, 16, 16)),
    "MaskedConv2d": (_masked_conv, (16, 32, 32, 32)),
    "spectral conv": (
        lambda: spectral_parametrize(nn.Conv2d(32, 64, 3, padding=1)),
        (16, 32, 32, 32),
    ),
}

#: name: model factory for the timings (CIFAR-10: 10 classes, 3 × 32 × 32).
MODELS: dict[str, Callable[[float], nn.Module]] = {
    "ResNet-20": lambda width: resnet20(width=width),
    "ResNet-18": lambda width: resnet18(width=width),
    "ResNet-18 + SBN34": lambda width: resnet18(width=width, norm_layer=norm_variant("SBN34")),
}


def relative_error(a: torch.Tensor, ref: torch.Tensor) -> float:
    """``‖a − ref‖ / ‖ref‖`` in float64 on the CPU."""
    a, ref = a.detach().cpu().double(), ref.detach().cpu().double()
    return float((a - ref).norm() / ref.norm().clamp_min(1e-300))


def _step(layer: nn.Module, x: torch.Tensor, dtype: torch.dtype | None, upstream: Callable):
    """Forward (under autocast to ``dtype`` unless None), backward with ``upstream(shape)``.

    The output gradient is passed ``channels_last``, as a following convolution passes
    it. Returns a dict of named tensors: output, input gradient, parameter gradients and
    the floating buffers after the step.
    """
    x = x.detach().requires_grad_(True)
    with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
        y = layer(x)
    grad = upstream(y.shape).to(device=y.device, dtype=y.dtype)
    y.backward(grad.contiguous(memory_format=torch.channels_last))
    named = {"output": y, "input grad": x.grad}
    named |= {f"grad {n}": p.grad for n, p in layer.named_parameters()}
    named |= {f"buffer {n}": b for n, b in layer.named_buffers() if b.is_floating_point()}
    return named


def check_layer(name: str, dtype: torch.dtype, device: torch.device) -> dict:
    """One layer under autocast to ``dtype`` on ``device`` against float64 on the CPU."""
    factory, shape = LAYERS[name]
    torch.manual_seed(0)
    layer = factory()
    reference = copy.deepcopy(layer).double()
    layer.to(device=device, memory_format=torch.channels_last)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(dtype)

    def upstream(out_shape: torch.Size) -> torch.Tensor:  # in dtype, exact in float64
        return torch.randn(out_shape, generator=torch.Generator().manual_seed(2)).to(dtype)

    want = _step(reference, x.double(), None, upstream)
    x_device = x.to(device).contiguous(memory_format=torch.channels_last)
    got = _step(layer, x_device, dtype, upstream)
    errors = {key: relative_error(got[key], want[key]) for key in want}
    worst = max(errors.values())
    passed = math.isfinite(worst) and worst <= TOLERANCE[dtype] and got["output"].dtype == dtype
    return {
        "layer": name,
        "dtype": str(dtype).removeprefix("torch."),
        "output_dtype": str(got["output"].dtype).removeprefix("torch."),
        "errors": errors,
        "max_error": worst,
        "tolerance": TOLERANCE[dtype],
        "pass": passed,
    }


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_model(name: str, device: torch.device, width: float, batch: int, steps: int) -> dict:
    """Seconds per fast-path training step of model ``name``, and the epoch estimate."""
    torch.manual_seed(0)
    model = MODELS[name](width).to(device=device, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)

    def train_step() -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(WARMUP):
        train_step()
    _synchronize(device)
    start = time.perf_counter()
    losses = [train_step() for _ in range(steps)]
    _synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    return {
        "model": name,
        "width": width,
        "batch": batch,
        "steps": steps,
        "step_ms": seconds * 1e3,
        "epoch_s": seconds * math.ceil(CIFAR_TRAIN / batch),
        "finite_loss": bool(torch.isfinite(torch.stack(losses)).all()),
    }


def device_name(device: torch.device) -> str:
    """A file-name-safe name of ``device``, e.g. ``nvidia-h200`` or ``cpu-x86_64``."""
    if device.type == "cuda":
        raw = torch.cuda.get_device_name(device)
    else:
        raw = f"{device.type}-{platform.machine()}"
    return re.sub(r"[^a-z0-9_.]+", "-", raw.lower()).strip("-")


def print_table(result: dict) -> None:
    """The checks (worst error per layer and dtype) and the timings, as plain text."""
    print(f"\n{'layer':<28}{'dtype':>10}{'max rel err':>13}{'tol':>8}  result")
    for c in result["checks"]:
        verdict = "pass" if c["pass"] else f"FAIL ({c['output_dtype']} out)"
        print(
            f"{c['layer']:<28}{c['dtype']:>10}{c['max_error']:>13.2e}{c['tolerance']:>8.0e}  "
            f"{verdict}"
        )
    print(f"\n{'model (bf16, channels_last)':<28}{'batch':>7}{'step ms':>10}{'epoch s':>10}")
    for t in result["timings"]:
        print(f"{t['model']:<28}{t['batch']:>7}{t['step_ms']:>10.1f}{t['epoch_s']:>10.1f}")
    for skipped in result["skipped"]:
        print(f"skipped (time budget): {skipped}")


def run(device: torch.device, steps: int) -> dict:
    """All checks, then the timings while the time budget lasts; the JSON record."""
    dry_run = device.type != "cuda"
    width, batch = (0.125, 8) if dry_run else (1.0, 128)
    deadline = time.monotonic() + BUDGET_S
    checks = [check_layer(n, dtype, device) for dtype in TOLERANCE for n in LAYERS]
    timings, skipped = [], []
    for name in MODELS:
        if time.monotonic() > deadline:
            skipped.append(name)
            continue
        timings.append(time_model(name, device, width, batch, steps))
    return {
        "device": device_name(device),
        "device_str": str(device),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "dry_run": dry_run,
        "all_pass": all(c["pass"] for c in checks),
        "checks": checks,
        "timings": timings,
        "skipped": skipped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="a CUDA device; 'cpu' for a dry run")
    parser.add_argument("--out", type=Path, help="JSON path (default data/results/gpu_check/)")
    parser.add_argument("--steps", type=int, help="timed steps per model (default 50; CPU 2)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here; use --device cpu for a dry run")
    steps = args.steps if args.steps is not None else (50 if device.type == "cuda" else 2)
    if steps < 1:
        parser.error(f"--steps must be >= 1, got {steps}")
    result = run(device, steps)
    out = args.out or RESULTS / f"{result['device']}-{result['date']}.json"
    atomic_write(out, (json.dumps(result, indent=2) + "\n").encode())
    print_table(result)
    print(f"\nwrote {out}")
    return 0 if result["all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
