"""Forward+backward time of SpectralBatchNorm2d (both impls) against nn.BatchNorm2d.

Usage: ``.venv/bin/python benchmarks/norm.py [--threads T] [--cpu-time] [--quick] [--no-model]``

1. The layer at ResNet-18 stage shapes (issue 6): ``SpectralBatchNorm2d`` with
   ``impl="spatial"`` and ``impl="fft"`` and ``nn.BatchNorm2d`` in training mode, timed as
   ``torch.autograd.grad(layer(x), [x, weight, bias], g)``; ratios to BatchNorm2d
   (issue 14's target for ``impl="spatial"``: at most 1.3 at every shape).
2. One CIFAR ResNet-18 training step's compute (forward, cross-entropy, backward; no
   optimizer update) for the paper's variants baseline, 2BN34 and SBN34 (each impl), with
   ratios to 2BN34 (the paper's control, same layer count) and to the baseline; the paper
   reports +16 % training time for ResNet-18 + SBN34 over ResNet-18 (Table VI), issue 14
   targets at most 1.10. Twice: in float32, and on the engine's fast path (``amp="bf16"``,
   ``channels_last``: model and batch in ``channels_last``, the step under bfloat16
   autocast, as :mod:`spectral.train` runs it).

Every number comes from ``torch.utils.benchmark.Timer.blocked_autorange`` in this run,
on random data, in interleaved rounds (each round times every variant once; ratios are
taken within a round and their median reported), so the drifting load of a shared
machine largely cancels. ``--cpu-time`` times with the process's CPU time
(``time.process_time``) instead of the wall clock: on a machine whose cores are shared
with other jobs, the time this process waits for a core then does not count (use it with
``--threads 1``; with more threads it adds up every thread's time). ``--quick`` uses small
shapes and runs in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import timeit

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.benchmark import Timer

from spectral.memory import keep_freed_memory
from spectral.models.variants import norm_variant
from spectral.norm import SpectralBatchNorm2d
from spectral.train import native_bf16

LAYER_SHAPES = [(128, 256, 8, 8), (128, 512, 4, 4), (128, 64, 32, 32)]
QUICK_LAYER_SHAPES = [(16, 64, 8, 8), (16, 128, 4, 4), (8, 32, 16, 16)]


def median_seconds(fn, timing: dict, min_run_time: float) -> float:
    """Median time of ``fn()`` over one ``blocked_autorange``; ``timing``: Timer options."""
    timer = Timer("fn()", globals={"fn": fn}, **timing)
    return timer.blocked_autorange(min_run_time=min_run_time).median


def compare(steps: dict, timing: dict, rounds: int, min_run_time: float) -> dict:
    """Interleaved timing of several closures: ``{name: (median seconds, ratios)}``.

    Each round times every closure once; a closure's ratio to the first one is taken
    within each round, so slow drifts of a shared machine cancel. Returns, per name, the
    median time over rounds and the list of per-round ratios to the first name.
    """
    for step in steps.values():  # warm-up: allocator, FFT plans, thread pool
        for _ in range(3):
            step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(median_seconds(step, timing, min_run_time))
    first = next(iter(steps))
    return {
        name: (float(np.median(t)), [a / b for a, b in zip(t, times[first], strict=True)])
        for name, t in times.items()
    }


def layer_step(layer: nn.Module, shape: tuple[int, int, int, int]):
    """A closure running the layer forward and backward to input and parameters."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=generator).requires_grad_(True)
    grad = torch.randn(shape, generator=generator)
    inputs = [x, *layer.parameters()]
    layer.train()

    def step() -> None:
        torch.autograd.grad(layer(x), inputs, grad)

    return step


def model_step(variant: str, width: float, batch: int, fast: bool, **sbn_options):
    """A closure running one ResNet-18 training step's forward and backward.

    ``fast``: the engine's fast path, channels_last model and batch under bf16 autocast.
    """
    from spectral.models import resnet18

    torch.manual_seed(0)
    model = resnet18(num_classes=10, width=width, norm_layer=norm_variant(variant, **sbn_options))
    model.train()
    images = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch,))
    if fast:
        model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if fast else contextlib.nullcontext()
        with autocast:
            loss = F.cross_entropy(model(images), labels)
        loss.backward()

    return step


def model_table(width: float, batch: int, fast: bool, timing: dict, rounds: int, quick: bool):
    """Print the ResNet-18 step time of each variant and its ratios to 2BN34 and baseline."""
    precision = "bf16 autocast + channels_last" if fast else "float32"
    print(f"\nResNet-18 training step (width {width}, batch {batch}, 32×32, {precision}), "
          "forward+backward")
    variants = {
        "2BN34": ("2BN34", {}),
        "baseline": ("BN", {}),
        "SBN34 spatial": ("SBN34", {"impl": "spatial"}),
        "SBN34 fft": ("SBN34", {"impl": "fft"}),
    }
    steps = {
        label: model_step(variant, width, batch, fast, **options)
        for label, (variant, options) in variants.items()
    }
    result = compare(steps, timing, rounds, 0.05 if quick else 1.0)
    base = np.array(result["baseline"][1])
    print(f"{'variant':<16}{'ms':>10}{'/ 2BN34':>9}{'/ baseline':>12}")
    for label, (seconds, ratios) in result.items():
        to_baseline = np.median(np.array(ratios) / base)
        print(f"{label:<16}{seconds * 1e3:>10.1f}{np.median(ratios):>9.2f}{to_baseline:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--quick", action="store_true", help="small shapes, short timing runs")
    parser.add_argument("--no-model", action="store_true", help="skip the ResNet-18 step")
    parser.add_argument("--width", type=float, default=0.25, help="ResNet-18 channel multiplier")
    parser.add_argument("--batch", type=int, default=128, help="ResNet-18 batch size")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--cpu-time", action="store_true", help="time CPU, not wall clock")
    args = parser.parse_args()
    keep_freed_memory()  # as the runner's CPU training processes (spectral.memory)
    clock = time.process_time if args.cpu_time else timeit.default_timer
    timing = {"num_threads": args.threads, "timer": clock}
    shapes = QUICK_LAYER_SHAPES if args.quick else LAYER_SHAPES
    rounds, min_run_time = (2, 0.02) if args.quick else (args.rounds, 0.3)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU, {args.threads} threads, training mode, "
          f"{'process CPU' if args.cpu_time else 'wall-clock'} time;")
    print(f"{rounds} interleaved rounds; ratio = median over rounds of the per-round ratio")

    print("\nLayer forward+backward (ms); ratio = time / nn.BatchNorm2d")
    header = f"{'N×C×H×W':<18}{'BatchNorm2d':>12}{'SBN spatial':>13}{'ratio':>7}"
    print(header + f"{'SBN fft':>10}{'ratio':>7}")
    for shape in shapes:
        channels = shape[1]
        steps = {
            "bn": layer_step(nn.BatchNorm2d(channels), shape),
            "spatial": layer_step(SpectralBatchNorm2d(channels, impl="spatial"), shape),
            "fft": layer_step(SpectralBatchNorm2d(channels, impl="fft"), shape),
        }
        result = compare(steps, timing, rounds, min_run_time)
        (bn, _), (spatial, r_spatial), (fft, r_fft) = result.values()
        name = "×".join(map(str, shape))
        print(
            f"{name:<18}{bn * 1e3:>12.2f}{spatial * 1e3:>13.2f}{np.median(r_spatial):>7.2f}"
            f"{fft * 1e3:>10.2f}{np.median(r_fft):>7.2f}"
        )

    if args.no_model:
        return
    width, batch = (0.125, 16) if args.quick else (args.width, args.batch)
    fast_paths = (False, True) if native_bf16("cpu") else (False,)
    if len(fast_paths) == 1:
        print("bf16 fast path not measured: no native bfloat16 here (spectral.train.native_bf16)")
    for fast in fast_paths:
        model_table(width, batch, fast, timing, rounds, args.quick)
    print("\npaper, Table VI: ResNet-18 + SBN34 on CIFAR-10 trains 16 % longer than ResNet-18;")
    print("issue 14's target: SBN34 spatial / baseline at most 1.10 in both tables")


if __name__ == "__main__":
    main()
