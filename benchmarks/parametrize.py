"""Training-step time of spectrally parameterized nets vs the spatial ones, as a ratio.

Usage: ``.venv/bin/python benchmarks/parametrize.py [--width W] [--batch N] [--threads T]
[--quick] [--models resnet18 rippel_generic ...]``

For each model, one full training step (forward, cross-entropy, backward, Adam update) of
the spatial net and of a copy with :func:`spectral.parametrize.spectral_parametrize` (same
weights, so the same arithmetic apart from the weight transform ``f = B θ`` and its
gradient) on CPU random 32×32 images. The two are timed in alternating blocks with
``torch.utils.benchmark.Timer`` so that load from other processes hits both alike; the
script prints the medians, the ratio spectral/spatial (the issue's target: ≤ 1.05), the
time of the weight transforms alone (every spectral weight computed once, forward and
backward) and that time as a fraction of the spatial step, the added cost measured
directly (on a loaded machine the ratio of two step times is the noisier figure).
``--quick`` runs in seconds.
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.benchmark import Timer

from spectral.models import create
from spectral.parametrize import is_spectral, spectral_parametrize

MODELS = ("resnet18", "rippel_generic", "rippel_deep")


def _step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def _transform_fn(model: nn.Module):
    """Compute every spectral weight once, forward and backward (the added work)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and is_spectral(m)]

    def transform() -> None:
        total = sum(conv.weight.sum() for conv in convs)
        total.backward()

    return transform


def measure(
    name: str, width: float, batch: int, threads: int, blocks: int, min_run_time: float
) -> dict:
    """Median step seconds of the spatial and spectral nets, alternating ``blocks`` times."""
    torch.manual_seed(0)
    spatial = create(name, width=width)
    spectral = spectral_parametrize(copy.deepcopy(spatial))
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    steps = {"spatial": _step_fn(spatial, x, y), "spectral": _step_fn(spectral, x, y)}
    for step in steps.values():  # warm-up
        step(), step()
    times: dict[str, list[float]] = {"spatial": [], "spectral": []}
    for _ in range(blocks):
        for label, step in steps.items():
            timer = Timer("step()", globals={"step": step}, num_threads=threads)
            times[label].append(timer.blocked_autorange(min_run_time=min_run_time).median)
    transform = _transform_fn(spectral)
    transform()
    timer = Timer("transform()", globals={"transform": transform}, num_threads=threads)
    return {
        "spatial": statistics.median(times["spatial"]),
        "spectral": statistics.median(times["spectral"]),
        "transform": timer.blocked_autorange(min_run_time=min_run_time).median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25, help="channel multiplier")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="batch 8, short timing runs")
    args = parser.parse_args()
    batch, blocks, min_run_time = (8, 3, 0.05) if args.quick else (args.batch, 5, 0.5)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {batch}, width {args.width}")
    print(
        f"\n{'model':<16}{'spatial ms':>12}{'spectral ms':>13}{'ratio':>8}"
        f"{'transform ms':>14}{'transform/step':>16}"
    )
    for name in args.models:
        t = measure(name, args.width, batch, args.threads, blocks, min_run_time)
        ratio = t["spectral"] / t["spatial"]
        print(
            f"{name:<16}{t['spatial'] * 1e3:>12.1f}{t['spectral'] * 1e3:>13.1f}"
            f"{ratio:>8.3f}{t['transform'] * 1e3:>14.2f}{t['transform'] / t['spatial']:>16.3f}"
        )


if __name__ == "__main__":
    main()
