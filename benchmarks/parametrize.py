"""Training-step time of spectrally parameterized nets vs the spatial ones, as a ratio.

Usage: ``.venv/bin/python benchmarks/parametrize.py [--width W] [--batch N ...]
[--threads T] [--paths float32 bf16_cl] [--quick] [--models resnet18 rippel_generic ...]``

For each model, batch size and path, one full training step (forward, cross-entropy,
backward, Adam update) of the spatial net and of a copy with
:func:`spectral.parametrize.spectral_parametrize` (same weights, so the same arithmetic
apart from the weight transform ``f = B θ`` and its gradient) on CPU random 32×32 images.
Two paths: ``float32`` (contiguous model and batch) and ``bf16_cl`` (the engine's fast
path: ``torch.autocast("cpu", dtype=torch.bfloat16)``, model and batch
``channels_last``). The two nets are timed in interleaved rounds with
``torch.utils.benchmark.Timer`` (each round times both once, in alternating order; the
ratio spectral/spatial is taken within a round and its median over rounds printed), so
the drifting load of a shared machine largely cancels. Also printed: the time of the
weight transforms alone (every spectral weight computed once, forward and backward, on
the same path) as a fraction of the spatial step, the added cost measured directly; on a
heavily loaded machine it is the steadier figure. The issue's target is a ratio ≤ 1.05
at batch 128. ``--quick`` runs in seconds (batch 8, short rounds); on a loaded machine
``--threads 1`` gives steadier figures.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.benchmark import Timer

from spectral.memory import keep_freed_memory
from spectral.models import create
from spectral.parametrize import is_spectral, spectral_parametrize

MODELS = ("resnet18", "rippel_generic", "rippel_deep")
#: label -> (autocast dtype or None, memory format of model and batch)
PATHS = {
    "float32": (None, torch.contiguous_format),
    "bf16_cl": (torch.bfloat16, torch.channels_last),
}


def _autocast(dtype: torch.dtype | None):
    """A fresh ``torch.autocast`` context on the CPU, or a null one for ``dtype=None``."""
    return torch.autocast("cpu", dtype=dtype) if dtype else contextlib.nullcontext()


def _step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dtype: torch.dtype | None):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with _autocast(dtype):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def _transform_fn(model: nn.Module, dtype: torch.dtype | None):
    """Compute every spectral weight once, forward and backward (the added work)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and is_spectral(m)]

    def transform() -> None:
        with _autocast(dtype):
            total = sum(conv.weight.sum() for conv in convs)
        total.backward()

    return transform


def _interleaved(steps: dict, threads: int, rounds: int, block_s: float) -> dict:
    """Per-step seconds of each closure in ``steps``, one block of about ``block_s`` a round.

    Each round times every closure once, in alternating order (ABBA…), so that a drift of
    the machine's load hits all alike; returns ``{label: [seconds per step, per round]}``.
    """
    timers = {
        label: Timer("f()", globals={"f": f}, num_threads=threads) for label, f in steps.items()
    }
    number = {
        label: max(1, round(block_s / timer.timeit(1).median)) for label, timer in timers.items()
    }
    times: dict[str, list[float]] = {label: [] for label in steps}
    for r in range(rounds):
        for label in list(steps)[:: 1 if r % 2 == 0 else -1]:
            times[label].append(timers[label].timeit(number[label]).median)
    return times


def measure(
    name: str, width: float, batch: int, path: str, threads: int, rounds: int, block_s: float
) -> dict:
    """Median step seconds of both nets, their median within-round ratio, the transform's time.

    ``transform`` is the fastest round of the weight transforms alone (:func:`_transform_fn`).
    """
    dtype, memory_format = PATHS[path]
    torch.manual_seed(0)
    spatial = create(name, width=width)
    spectral = spectral_parametrize(copy.deepcopy(spatial))
    for model in (spatial, spectral):
        model.to(memory_format=memory_format)
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch,))
    steps = {"spatial": _step_fn(spatial, x, y, dtype), "spectral": _step_fn(spectral, x, y, dtype)}
    for step in steps.values():  # warm-up: allocator, thread pool, cached bases
        step(), step()
    times = _interleaved(steps, threads, rounds, block_s)
    transform = _transform_fn(spectral, dtype)
    transform()
    ratios = [a / b for a, b in zip(times["spectral"], times["spatial"], strict=True)]
    return {
        "spatial": statistics.median(times["spatial"]),
        "spectral": statistics.median(times["spectral"]),
        "ratio": statistics.median(ratios),
        "transform": min(_interleaved({"t": transform}, threads, rounds, block_s)["t"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25, help="channel multiplier")
    parser.add_argument("--batch", type=int, nargs="+", default=[8, 128])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    parser.add_argument("--quick", action="store_true", help="batch 8, short timing runs")
    args = parser.parse_args()
    keep_freed_memory()  # as the runner's CPU training processes (spectral.memory)
    batches, rounds, block_s = ([8], 3, 0.05) if args.quick else (args.batch, args.rounds, 0.3)
    print(f"torch {torch.__version__}, {args.threads} threads, width {args.width}, {rounds} rounds")
    print(
        f"\n{'model':<16}{'path':<9}{'batch':>6}{'spatial ms':>12}{'spectral ms':>13}"
        f"{'ratio':>8}{'transform ms':>14}{'transform/step':>16}"
    )
    for name in args.models:
        for path in args.paths:
            for batch in batches:
                t = measure(name, args.width, batch, path, args.threads, rounds, block_s)
                print(
                    f"{name:<16}{path:<9}{batch:>6}{t['spatial'] * 1e3:>12.1f}"
                    f"{t['spectral'] * 1e3:>13.1f}{t['ratio']:>8.3f}"
                    f"{t['transform'] * 1e3:>14.2f}{t['transform'] / t['spatial']:>16.3f}"
                )


if __name__ == "__main__":
    main()
