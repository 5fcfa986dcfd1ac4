"""Loader throughput vs a training step: is an epoch bound by the data pipeline?

Usage: ``python benchmarks/loader.py [--quick] [--device cpu|cuda]``

Prints images/s of :class:`spectral.data.TensorLoader` (whole CIFAR-10 training split as
one tensor, random crop + flip done batch-wise), of
:class:`spectral.data.GaussianNoiseLoader` on top of it (the masks experiment's noise
training) and of a CIFAR ResNet-18 forward + backward + SGD step at batch 128, and the
loaders' ratios to the step, measured in one run. Needs the CIFAR-10 archive in
``$SPECTRAL_DATA`` (synthetic uint8 images otherwise, same shapes)."""

from __future__ import annotations

import argparse
import time

import torch

from spectral.data import GaussianNoiseLoader, TensorLoader, channel_stats, load_arrays
from spectral.models import create


def images_per_second(step, batch: int, repeats: int) -> float:
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="width 0.25 net, fewer repeats")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    try:
        images, labels = load_arrays("cifar10", train=True)
        source = "CIFAR-10 training split"
    except FileNotFoundError:
        images = torch.randint(0, 256, (50_000, 3, 32, 32), dtype=torch.uint8)
        labels = torch.randint(0, 10, (50_000,))
        source = "synthetic uint8 images (no archive found)"
    mean, std = channel_stats(images)
    batch = 128
    loader = TensorLoader(
        images,
        labels,
        batch_size=batch,
        mean=mean,
        std=std,
        augment=True,
        shuffle=True,
        device=device,
    )

    def loading(batch_source):
        batches = iter(batch_source)

        def load():
            next(batches)
            if device.type == "cuda":
                torch.cuda.synchronize()

        return load

    width = 0.25 if args.quick else 1.0
    model = create("resnet18", num_classes=10, width=width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    def train_step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    repeats = 3 if args.quick else 10
    loader_rate = images_per_second(loading(loader), batch, 30)
    noise_rate = images_per_second(loading(GaussianNoiseLoader(loader)), batch, 30)
    step_rate = images_per_second(train_step, batch, repeats)
    print(f"data: {source}; device: {device}; torch threads: {torch.get_num_threads()}")
    rows = [
        (f"TensorLoader (crop + flip, batch {batch})", loader_rate),
        ("  + GaussianNoiseLoader", noise_rate),
        (f"ResNet-18 width {width} train step", step_rate),
    ]
    for label, rate in rows:
        print(f"{label + ':':<42}{rate:10.0f} images/s")
    for label, rate in (("TensorLoader", loader_rate), ("GaussianNoiseLoader", noise_rate)):
        print(f"{label + ' / step throughput ratio:':<42}{rate / step_rate:10.1f}x")


if __name__ == "__main__":
    main()
