"""Generated images, the same on every machine: a small data set and figure stand-ins.

:func:`synthetic_split` is the ``synthetic`` data set of
:func:`~spectral.data.load_arrays` (for tests and smoke runs, no files needed);
:func:`synthetic_samples` are the images that :func:`~spectral.data.sample_images`
shows where the CIFAR-10 archive is absent.
"""

from __future__ import annotations

import math

import torch

__all__ = ["CLASSES", "SIZES", "synthetic_samples", "synthetic_split"]

#: Images in the (training, test) split of the synthetic data set.
SIZES = (640, 200)
#: Its class names: one smooth random pattern each.
CLASSES = tuple(f"pattern_{i}" for i in range(10))


def synthetic_split(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-shaped uint8 images: one smooth random pattern per class plus pixel noise.

    Deterministic (fixed seeds), learnable in a few epochs; the training and test splits
    draw different noise.

    Returns
    -------
    images : Tensor, shape ``(N, 3, 32, 32)``, uint8
    labels : Tensor, shape ``(N,)``, int64, ``N`` from :data:`SIZES`
    """
    patterns = torch.randn(10, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    patterns = torch.nn.functional.interpolate(patterns, size=(32, 32), mode="bilinear")
    n = SIZES[0 if train else 1]
    generator = torch.Generator().manual_seed(1 if train else 2)
    labels = torch.arange(n) % 10
    images = patterns[labels] + 0.8 * torch.randn(n, 3, 32, 32, generator=generator)
    return (images * 40 + 128).clamp(0, 255).to(torch.uint8), labels


def synthetic_samples(n: int, size: int = 32) -> tuple[torch.Tensor, list[str]]:
    """``n`` float64 RGB images in [0, 1]: 1/f noise, oriented edges and discs, in turn.

    Returns
    -------
    images : Tensor, shape ``(n, 3, size, size)``, each with minimum 0 and maximum 1
    labels : list of str
        ``"synthetic 1/f noise"``, ``"synthetic edge"`` or ``"synthetic disc"``.
    """
    generator = torch.Generator().manual_seed(0)
    coords = torch.arange(size, dtype=torch.float64)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    freq = torch.fft.fftfreq(size, dtype=torch.float64)
    radius = torch.sqrt(freq[:, None] ** 2 + freq[None, :] ** 2).clamp_min(1.0 / size)
    tint = {1: (0.9, 0.6, 0.3), 2: (0.2, 0.5, 0.9)}
    images, labels = [], []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # 1/f noise: the power law of natural images
            noise = torch.randn(3, size, size, generator=generator, dtype=torch.float64)
            image = torch.fft.ifft2(torch.fft.fft2(noise) / radius).real
            label = "1/f noise"
        else:
            if kind == 1:  # an oriented edge
                angle = math.pi * (i + 1) / (n + 1)
                u = (xx - size / 2) * math.cos(angle) + (yy - size / 2) * math.sin(angle)
                shape, label = torch.sigmoid(2.0 * u), "edge"
            else:  # a disc
                r2 = (xx - size / 2) ** 2 + (yy - size / 2) ** 2
                shape, label = (r2 < (size / 4) ** 2).to(torch.float64), "disc"
            colour = torch.tensor(tint[kind], dtype=torch.float64)[:, None, None]
            image = shape.expand(3, size, size) * colour
        image = image - image.amin()
        images.append(image / image.amax().clamp_min(1e-12))
        labels.append(f"synthetic {label}")
    return torch.stack(images), labels
