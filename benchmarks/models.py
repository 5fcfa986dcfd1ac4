"""Forward+backward time of every model in spectral.models, as a ratio to ResNet-18.

Usage: ``.venv/bin/python benchmarks/models.py [--width W] [--batch N] [--threads T] [--quick]``

Times one training step's compute (forward, cross-entropy, backward; no optimizer update)
on CPU random images at the models' input sizes, with ``torch.utils.benchmark.Timer``'s
``blocked_autorange``, and prints each model's median next to its ratio to CIFAR
ResNet-18 at the same width, measured in the same run, and the compute of one epoch
(50,000 CIFAR-10 or 60,000 MNIST images; no data loading). ``--quick`` runs in seconds.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from spectral.memory import keep_freed_memory
from spectral.models import MODELS, create

BASELINE = "resnet18"


#: Rows: label -> (model name, extra keyword arguments); net (5) also with its control.
ROWS = {name: (name, {}) for name in MODELS} | {
    "rippel_spectral_pool_net[max]": ("rippel_spectral_pool_net", {"pool": "max"})
}


def step_time(
    name: str, kwargs: dict, width: float, batch: int, threads: int, min_run_time: float
) -> float:
    """Median seconds of one forward+backward pass of model ``name``."""
    model = create(name, width=width, **kwargs)
    in_channels, size = (1, 28) if name == "lenet_mnist" else (3, 32)
    x = torch.randn(batch, in_channels, size, size)
    y = torch.randint(0, 10, (batch,))

    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    for _ in range(2):  # warm-up: the first steps of a process or shape are slower
        step()
    timer = Timer("step()", globals={"step": step}, num_threads=threads)
    return timer.blocked_autorange(min_run_time=min_run_time).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25, help="channel multiplier")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--quick", action="store_true", help="batch 8, short timing runs")
    args = parser.parse_args()
    keep_freed_memory()  # as the runner's CPU training processes (spectral.memory)
    batch, min_run_time = (8, 0.05) if args.quick else (args.batch, 0.5)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {batch}, width {args.width}")
    times = {
        label: step_time(name, kwargs, args.width, batch, args.threads, min_run_time)
        for label, (name, kwargs) in ROWS.items()
    }
    print(f"\n{'model':<31}{'fwd+bwd ms':>12}{'ratio':>9}{'epoch s':>10}")
    for label, seconds in times.items():
        epoch = seconds * (60_000 if label == "lenet_mnist" else 50_000) / batch
        ratio = seconds / times[BASELINE]
        print(f"{label:<31}{seconds * 1e3:>12.1f}{ratio:>9.2f}{epoch:>10.0f}")


if __name__ == "__main__":
    main()
