"""A few images for the book's figures: CIFAR-10's, or generated ones without the archive."""

from __future__ import annotations

import os

import torch

from spectral.data.archive import archive_images, to_chw_uint8, verified
from spectral.data.specs import SPECS, data_root
from spectral.data.synthetic import synthetic_samples

__all__ = ["sample_images"]


def sample_images(
    n: int = 6, *, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, list[str], str]:
    """A few real images for figures: one CIFAR-10 training image per class.

    Reads only the first image of each class from the archive (fast, no cache).

    Parameters
    ----------
    n : int
        Number of images, ``1 <= n <= 10`` (one per CIFAR-10 class, in archive order).
    root : path, optional
        Folder holding ``cifar10-jpeg.tar.gz``; default ``$SPECTRAL_DATA``.

    Returns
    -------
    images : Tensor, shape ``(n, 3, 32, 32)``, float64 in ``[0, 1]``
    labels : list of str
        Class names (or ``"synthetic …"``).
    source : str
        ``"CIFAR-10 offline archive"`` or ``"synthetic"`` (no archive found).
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10:
        raise ValueError(f"n must be an int in 1..10 (one image per class), got {n!r}")
    spec = SPECS["cifar10"]
    folder = data_root(root)
    archive = folder / spec.archive if folder is not None else None
    if archive is None or not archive.is_file():
        images, labels = synthetic_samples(n)
        return images, labels, "synthetic"
    images, labels = [], []
    for label, _, image in archive_images(verified(archive, spec), "train", limit_per_class=1):
        images.append(to_chw_uint8(image, 3))
        labels.append(label)
        if len(labels) == n:
            break
    return torch.stack(images).to(torch.float64) / 255.0, labels, "CIFAR-10 offline archive"
