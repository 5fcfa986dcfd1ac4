"""Training-step time with glibc's allocator defaults against ``keep_freed_memory()``.

Usage: ``.venv/bin/python benchmarks/allocator.py [--batch N] [--threads T] [--rounds R]
[--steps S] [--quick]``

Each measurement runs in a fresh process (``spawn``: the setting is process-wide and has
no undo, and a forked child would inherit the parent's heap), which builds one model,
takes three warm-up steps and reports the median of ``--steps`` SGD steps (forward,
cross-entropy, backward, update; ``benchmarks/engine.py``'s step) on a random batch.
Rounds alternate the two settings, the ratio kept / default is taken within a round, and
the median over rounds is printed: below 1 the kept memory is faster. Paths: float32
eager, and the engine's bf16 + channels_last fast path where the CPU runs bfloat16 in
hardware (:func:`spectral.train.native_bf16`). Times are measured, never asserted.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import torch
from engine import MODELS, PATHS, make_step, seconds_per_step, step_arguments

from spectral.memory import keep_freed_memory
from spectral.models import create
from spectral.train import native_bf16

CASES = {  # label -> model factory
    "rippel net (6) 5×5": lambda: create("rippel_generic", kernel_size=5),
    "resnet18 w0.25 BN": MODELS["resnet18 w0.25 BN"],
    "resnet20 BN": MODELS["resnet20 BN"],
}


def _worker(label: str, path: str, keep: bool, threads: int, batch: int, steps: int, queue):
    torch.set_num_threads(threads)
    applied = keep_freed_memory() if keep else False
    step = make_step(CASES[label], PATHS[path], batch)
    for _ in range(3):
        step()
    queue.put((applied, seconds_per_step(step, steps)))


def step_seconds(label: str, path: str, keep: bool, threads: int, batch: int, steps: int):
    """``(applied, median seconds per step)`` measured in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(
        target=_worker, args=(label, path, keep, threads, batch, steps, queue)
    )
    worker.start()
    result = queue.get()
    worker.join()
    return result


def main() -> None:
    parser = step_arguments(__doc__.splitlines()[0], batch=128, steps=5)
    parser.add_argument("--quick", action="store_true", help="batch 8, one round, one step")
    args = parser.parse_args()
    batch, rounds, steps = (8, 1, 1) if args.quick else (args.batch, args.rounds, args.steps)
    paths = ["float32 eager"] + (["bf16 + channels_last"] if native_bf16("cpu") else [])
    print(f"torch {torch.__version__}, {args.threads} threads, batch {batch}, {rounds} "
          f"rounds × {steps} steps, one process per measurement; ratio = kept / default")
    for label in CASES:
        for path in paths:
            default, kept = [], []
            for _ in range(rounds):
                default.append(step_seconds(label, path, False, args.threads, batch, steps)[1])
                applied, seconds = step_seconds(label, path, True, args.threads, batch, steps)
                kept.append(seconds)
            if not applied:
                print(f"{label}, {path}: keep_freed_memory() did not apply (not glibc)")
            ratio = float(np.median([k / d for k, d in zip(kept, default, strict=True)]))
            print(f"{label:<22}{path:<22}default {1e3 * np.median(default):7.1f} ms  "
                  f"kept {1e3 * np.median(kept):7.1f} ms  ratio {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
