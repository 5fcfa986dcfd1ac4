"""Real images for the book: the offline CIFAR-10 archive, or a synthetic stand-in.

The archive ``cifar10-jpeg.tar.gz`` (all 60,000 CIFAR-10 images as JPEG, layout
``train/<class>/NNNN.jpg``) is found through the ``root`` argument or the
``SPECTRAL_DATA`` environment variable (``make`` sets it to ``../shared/data`` when that
folder exists). Its SHA-256 is verified before use. Where it is absent, the functions
here fall back to deterministic synthetic images, so the package works everywhere.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tarfile
from pathlib import Path

import torch

__all__ = ["CIFAR10_ARCHIVE", "CIFAR10_SHA256", "data_root", "sample_images"]

CIFAR10_ARCHIVE = "cifar10-jpeg.tar.gz"
CIFAR10_SHA256 = "5bbd2193f3b9982b20b3e62de1fcb9691706d5884e1bfe2840596f4c5f9b9bec"


def data_root(root: str | os.PathLike | None = None) -> Path | None:
    """The folder holding the offline archives: ``root``, else ``$SPECTRAL_DATA``.

    Returns ``None`` when neither is given. A given folder that does not exist raises
    ``FileNotFoundError``.
    """
    chosen = root if root is not None else os.environ.get("SPECTRAL_DATA") or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        source = "root" if root is not None else "$SPECTRAL_DATA"
        raise FileNotFoundError(f"{source} points to {path}, which is not a folder")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cifar10_samples(archive: Path, n: int) -> tuple[torch.Tensor, list[str]]:
    from PIL import Image  # torchvision's dependency; imported only when needed

    if _sha256(archive) != CIFAR10_SHA256:
        raise ValueError(f"{archive} has the wrong SHA-256; expected {CIFAR10_SHA256}")
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] != "train":
                continue
            label = parts[-2]
            if label in labels:
                continue
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as image:
                pixels = torch.frombuffer(
                    bytearray(image.convert("RGB").tobytes()), dtype=torch.uint8
                )
            images.append(pixels.view(32, 32, 3).permute(2, 0, 1))
            labels.append(label)
            if len(labels) == n:
                break
    return torch.stack(images).to(torch.float64) / 255.0, labels


def _synthetic_samples(n: int, size: int = 32) -> tuple[torch.Tensor, list[str]]:
    generator = torch.Generator().manual_seed(0)
    coords = torch.arange(size, dtype=torch.float64)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    freq = torch.fft.fftfreq(size, dtype=torch.float64)
    radius = torch.sqrt(freq[:, None] ** 2 + freq[None, :] ** 2).clamp_min(1.0 / size)
    images, labels = [], []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # 1/f noise: the power law of natural images
            noise = torch.randn(3, size, size, generator=generator, dtype=torch.float64)
            image = torch.fft.ifft2(torch.fft.fft2(noise) / radius).real
            label = "1/f noise"
        elif kind == 1:  # an oriented edge
            angle = math.pi * (i + 1) / (n + 1)
            edge = torch.sigmoid(
                2.0 * ((xx - size / 2) * math.cos(angle) + (yy - size / 2) * math.sin(angle))
            )
            image = (
                edge.expand(3, size, size)
                * torch.tensor([0.9, 0.6, 0.3], dtype=torch.float64)[:, None, None]
            )
            label = "edge"
        else:  # a disc
            disc = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size / 4) ** 2).to(torch.float64)
            image = (
                disc.expand(3, size, size)
                * torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64)[:, None, None]
            )
            label = "disc"
        image = image - image.amin()
        images.append(image / image.amax().clamp_min(1e-12))
        labels.append(f"synthetic {label}")
    return torch.stack(images), labels


def sample_images(
    n: int = 6, *, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, list[str], str]:
    """A few real images for figures: one CIFAR-10 training image per class.

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
    folder = data_root(root)
    archive = folder / CIFAR10_ARCHIVE if folder is not None else None
    if archive is not None and archive.is_file():
        images, labels = _cifar10_samples(archive, n)
        return images, labels, "CIFAR-10 offline archive"
    images, labels = _synthetic_samples(n)
    return images, labels, "synthetic"
