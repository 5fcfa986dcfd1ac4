"""Training loaders: a whole split as one tensor on the device, augmented batch-wise.

:class:`TensorLoader` holds the uint8 split on the target device and does the papers'
augmentation (random crop with padding 4, horizontal flip; SBN paper §IV-A) on whole
batches, so a GPU epoch is not loader-bound. :class:`GaussianNoiseLoader` adds the mask
paper's Gaussian data augmentation on top of one. Both are deterministic per
``(seed, epoch)``, so a resumed run sees the same batches.
"""

from __future__ import annotations

import math

import torch

from spectral._io import derive_seed
from spectral._validate import check_int, check_number

__all__ = ["GaussianNoiseLoader", "TensorLoader"]


class TensorLoader:
    """Batches from a whole split held as one tensor on a device, augmented batch-wise.

    Parameters
    ----------
    images : Tensor, shape ``(N, C, H, W)``, uint8
    labels : Tensor, shape ``(N,)``, int64
    batch_size : int
    mean, std : Tensor, shape ``(C,)``
        Per-channel normalisation (in [0, 1] units), e.g. from
        :func:`~spectral.data.channel_stats` of the training split.
    augment : bool
        Random crop (zero padding ``pad``, then a crop of the original size) and random
        horizontal flip, drawn per image (SBN paper §IV-A). ``False`` is Rippel et al.'s
        "no augmentation" and the test-time setting.
    pad : int
        Padding of the random crop, ``>= 0``.
    shuffle, drop_last : bool
    device : torch.device or str
    seed : int
        Seeds the loader's own generator: the order and augmentation of epoch ``e`` are
        a function of ``(seed, e)`` only, so a resumed run sees the same batches.

    Yields
    ------
    (Tensor ``(B, C, H, W)`` float32 normalised, Tensor ``(B,)`` int64)
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        batch_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        augment: bool = False,
        pad: int = 4,
        shuffle: bool = False,
        drop_last: bool = False,
        device: torch.device | str = "cpu",
        seed: int = 0,
    ):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.pad = check_int("pad", pad, minimum=0)
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        c = images.shape[1]
        self.mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        self.augment, self.shuffle, self.drop_last, self.seed = augment, shuffle, drop_last, seed
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order and augmentation the next iteration yields."""
        self.epoch = epoch

    def _augment(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        p = self.pad
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), generator=generator).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=generator).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        cropped = padded[batch, chans, rows, cols]
        flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)[:, None, None, None]
        return torch.where(flip, cropped.flip(-1), cropped)

    def __iter__(self):
        generator = torch.Generator().manual_seed(derive_seed(self.seed, "batches", self.epoch))
        n = len(self.labels)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            x = self.images[index].float().div_(255)
            x = (x - self.mean) / self.std  # normalise first: padding is then at the mean
            if self.augment:
                x = self._augment(x, generator)
            yield x, self.labels[index]


class GaussianNoiseLoader:
    """Gaussian data augmentation on top of a :class:`TensorLoader`.

    Each training image gets i.i.d. pixel noise ``N(0, σ²)`` with its own
    ``σ ~ U[0, sigma_max]`` (in [0, 1] pixel units, after crop/flip), then is clipped to
    [0, 1] and normalised again: ``x ← clip(x + σ ε)``. This is the "Gauss" row of the
    mask paper's Table 2, which gives no parameters; ``sigma_max = 0.1`` (the default)
    equals CIFAR-10-C's strongest Gaussian noise. Deterministic per ``(seed, epoch)``.

    Parameters
    ----------
    loader : TensorLoader
        Yields normalised batches; its ``mean`` and ``std`` undo the normalisation.
    sigma_max : float
        Upper end of the per-image noise level, ``>= 0``.
    seed : int
        Seeds the noise (with the epoch set by ``set_epoch``).
    """

    def __init__(self, loader, sigma_max: float = 0.1, *, seed: int = 0) -> None:
        if not hasattr(loader, "mean") or not hasattr(loader, "std"):
            raise TypeError("loader must be a spectral.data.TensorLoader (needs mean and std)")
        self.sigma_max = check_number("sigma_max", sigma_max, minimum=0.0)
        self.loader, self.seed, self.epoch = loader, seed, 0

    def __len__(self) -> int:
        return len(self.loader)

    def set_epoch(self, epoch: int) -> None:
        """Forwarded to the wrapped loader; also reseeds the noise."""
        self.epoch = epoch
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __iter__(self):
        generator = torch.Generator().manual_seed(derive_seed(self.seed, "noise", self.epoch))
        mean, std = self.loader.mean, self.loader.std
        for x, y in self.loader:
            sigma = self.sigma_max * torch.rand(len(x), 1, 1, 1, generator=generator)
            noise = torch.randn(x.shape, generator=generator) * sigma
            pixels = (x * std + mean + noise.to(x.device)).clamp(0, 1)
            yield (pixels - mean) / std, y
