"""Training-step time of the book's models: float32 eager against the engine's fast path.

Usage: ``.venv/bin/python benchmarks/engine.py [--batch N] [--threads T] [--rounds R]
[--compile] [--no-arrangement] [--quick] [--out FILE]``

1. One full SGD step (forward, cross-entropy, backward, optimizer step) at batch 256 on
   random CIFAR-sized images, for ResNet-20 (BN; with learned frequency masks),
   ResNet-18 at width 0.25 (BN; SBN34; spectral parameterization) and Rippel's
   spectral-pooling net (5), in two paths: float32 NCHW eager (the engine before the
   fast path) and bf16 autocast + channels_last (``TrainConfig(amp="bf16",
   channels_last=True)``); with ``--compile`` also + ``torch.compile``. Rounds are
   interleaved (each round times every path once) and the ratio fast/float32 is taken
   within a round; the median over rounds is printed. Target: ResNet-20 fast path ≤
   0.35× float32 eager at batch 256 on 2 threads.
2. The CPU arrangement of a grid: two runs side by side with one thread each, against
   one run at a time with all threads. Both do the same number of ResNet-20 fast-path
   steps; the printed ratio is side-by-side wall time / one-at-a-time wall time (< 1: side
   by side finishes a grid sooner).

Writes every number to ``--out`` (JSON, default ``data/benchmarks/engine.json``).
``--quick`` uses batch 16, one round and a short arrangement test (seconds; for checking
that the script runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spectral._io import atomic_write
from spectral.masks import add_masks_
from spectral.memory import keep_freed_memory
from spectral.models import create, norm_variant
from spectral.parametrize import spectral_parametrize

#: label -> model factory (each call builds a fresh, seeded model).
MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet20 BN": lambda: create("resnet20"),
    "resnet20 masks": lambda: add_masks_(create("resnet20"), (32, 32)),
    "resnet18 w0.25 BN": lambda: create("resnet18", width=0.25),
    "resnet18 w0.25 SBN34": lambda: create(
        "resnet18", width=0.25, norm_layer=norm_variant("SBN34")
    ),
    "resnet18 w0.25 spectral param": lambda: spectral_parametrize(
        create("resnet18", width=0.25)
    ),
    "rippel net (5) spectral pool": lambda: create("rippel_spectral_pool_net"),
}

PATHS = {  # label -> (autocast dtype or None, channels_last, compile)
    "float32 eager": (None, False, False),
    "bf16 + channels_last": (torch.bfloat16, True, False),
    "bf16 + channels_last + compile": (torch.bfloat16, True, True),
}


def make_step(factory: Callable[[], nn.Module], path: tuple, batch: int) -> Callable[[], None]:
    """A closure doing one SGD step of a fresh model on a fixed random batch."""
    dtype, channels_last, compile_ = path
    torch.manual_seed(0)
    model = factory()
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    forward = torch.compile(model) if compile_ else model
    autocast = (
        (lambda: torch.autocast("cpu", dtype=dtype)) if dtype else contextlib.nullcontext
    )

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            logits = forward(x)
        F.cross_entropy(logits.float(), y).backward()
        optimizer.step()

    return step


def seconds_per_step(step: Callable[[], None], steps: int) -> float:
    """Median wall time of ``steps`` calls of ``step``."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_models(paths: list[str], batch: int, rounds: int, steps: int, models=None) -> dict:
    """``{model: {path: {"ms": median ms, "ratio": median ratio to float32 eager}}}``.

    ``models``: substrings of the labels to time (default all).
    """
    out = {}
    for label, factory in MODELS.items():
        if models and not any(m in label for m in models):
            continue
        closures, failed = {}, {}
        for p in paths:
            try:
                closures[p] = make_step(factory, PATHS[p], batch)
                for _ in range(3):  # warm-up: allocator, FFT plans, oneDNN, compile
                    closures[p]()
            except Exception as error:  # e.g. torch.compile on a custom autograd op
                closures.pop(p, None)
                failed[p] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        times = {p: [] for p in closures}
        for _ in range(rounds):
            for p, step in closures.items():
                times[p].append(seconds_per_step(step, steps))
        base = times[paths[0]]
        out[label] = {
            p: {
                "ms": 1e3 * float(np.median(t)),
                "ratio": float(np.median([a / b for a, b in zip(t, base, strict=True)])),
            }
            for p, t in times.items()
        } | {p: {"failed": reason} for p, reason in failed.items()}
        row = "  ".join(
            f"{p}: failed ({v['failed'][:60]})" if "failed" in v
            else f"{p}: {v['ms']:7.1f} ms ({v['ratio']:.2f}×)"
            for p, v in out[label].items()
        )
        print(f"{label:<31}{row}", flush=True)
    return out


def _worker(threads: int, steps: int, batch: int, queue, go) -> None:
    torch.set_num_threads(threads)
    keep_freed_memory()
    step = make_step(MODELS["resnet20 BN"], PATHS["bf16 + channels_last"], batch)
    for _ in range(2):
        step()
    queue.put("ready")
    go.wait()  # every worker starts timing at once
    start = time.perf_counter()
    for _ in range(steps):
        step()
    queue.put(time.perf_counter() - start)


def _run_workers(count: int, threads: int, steps: int, batch: int) -> float:
    """Wall time for ``count`` processes, ``threads`` each, to do ``steps`` steps each."""
    context = multiprocessing.get_context("spawn")
    queue, go = context.Queue(), context.Event()
    workers = [
        context.Process(target=_worker, args=(threads, steps, batch, queue, go))
        for _ in range(count)
    ]
    for w in workers:
        w.start()
    for _ in workers:
        assert queue.get() == "ready"
    go.set()
    durations = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    return max(durations)


def arrangement(batch: int, steps: int) -> dict:
    """Side by side (cores × 1 thread) against one at a time (1 × cores threads)."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return {"skipped": "one core: nothing to arrange"}
    together = _run_workers(cores, 1, steps, batch)
    one_by_one = cores * _run_workers(1, cores, steps, batch)
    result = {
        "cores": cores,
        "steps_per_run": steps,
        "side_by_side_s": together,
        "one_at_a_time_s": one_by_one,
        "ratio": together / one_by_one,
        "faster": "side by side" if together < one_by_one else "one at a time",
    }
    print(f"\ngrid of {cores} runs × {steps} ResNet-20 fast-path steps (batch {batch}): "
          f"side by side {together:.1f} s, one at a time {one_by_one:.1f} s, "
          f"ratio {result['ratio']:.2f} → {result['faster']} is faster", flush=True)
    return result


def step_arguments(description: str, batch: int, steps: int) -> argparse.ArgumentParser:
    """A parser with the options of a training-step benchmark: batch, threads, rounds, steps."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=steps, help="timed steps per round")
    return parser


def main() -> None:
    parser = step_arguments(__doc__.splitlines()[0], batch=256, steps=3)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--no-arrangement", action="store_true")
    parser.add_argument("--models", nargs="+", help="only the models whose label contains one")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="data/benchmarks/engine.json")
    args = parser.parse_args()
    keep_freed_memory()  # as the runner's CPU training processes (spectral.memory)
    batch, rounds, steps = (16, 1, 1) if args.quick else (args.batch, args.rounds, args.steps)
    torch.set_num_threads(args.threads)
    paths = [p for p in PATHS if args.compile or "compile" not in p]
    print(f"torch {torch.__version__}, {args.threads} threads, batch {batch}, "
          f"{rounds} rounds × {steps} steps; ratios are to float32 eager", flush=True)
    record = {
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": args.threads,
        "batch": batch,
        "rounds": rounds,
        "date": time.strftime("%Y-%m-%d"),
        "steps": time_models(paths, batch, rounds, steps, args.models),
    }
    for path, row in record["steps"].get("resnet20 BN", {}).items():
        if "ratio" in row and path != "float32 eager":
            print(f"ResNet-20 {path} / float32 eager: {row['ratio']:.2f} (target ≤ 0.35: "
                  f"{'met' if row['ratio'] <= 0.35 else 'NOT met'})")
    if not args.no_arrangement:
        record["arrangement"] = arrangement(batch, 2 if args.quick else 12)
    out = Path(args.out)
    atomic_write(out, (json.dumps(record, indent=1) + "\n").encode())
    print(f"written {out}")


if __name__ == "__main__":
    main()
