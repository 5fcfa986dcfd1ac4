"""The splits of an experiment: class-balanced subsets, their statistics, their loaders."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from spectral._validate import check_choice
from spectral.data.loaders import TensorLoader
from spectral.data.sources import load_arrays

__all__ = ["Loaders", "balanced_split", "channel_stats", "make_loaders"]


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images, in [0, 1] units.

    Parameters
    ----------
    images : Tensor, shape ``(N, C, H, W)``, uint8

    Returns
    -------
    mean, std : Tensor, shape ``(C,)``, float32
    """
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ValueError(
            f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
        )
    x = images.to(torch.float64).div_(255).transpose(0, 1).reshape(images.shape[1], -1)
    return x.mean(1).float(), x.std(1).float()


def balanced_split(
    labels: torch.Tensor, *, first: int, second: int = 0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint class-balanced index sets, e.g. a training subset and a validation set.

    Parameters
    ----------
    labels : Tensor, shape ``(N,)``, int64
    first : int
        Size of the first set (``0``: everything not in the second set).
    second : int
        Size of the second set (``0``: empty).
    seed : int
        Seeds the shuffle within each class (independent of the run's seed, so every run
        of an experiment sees the same subset).

    Returns
    -------
    (Tensor, Tensor)
        Sorted int64 indices. Each class gets ``size // classes`` indices (the remainder
        goes to the first classes).
    """
    classes = int(labels.max()) + 1
    n = len(labels)
    if first < 0 or second < 0 or first + second > n:
        raise ValueError(
            f"need 0 <= first, second and first + second <= {n}, got {first}, {second}"
        )
    generator = torch.Generator().manual_seed(seed)
    per_class = [(labels == c).nonzero().flatten() for c in range(classes)]
    per_class = [ix[torch.randperm(len(ix), generator=generator)] for ix in per_class]

    def quota(size: int, c: int) -> int:
        return size // classes + (1 if c < size % classes else 0)

    second_ix = [ix[: quota(second, c)] for c, ix in enumerate(per_class)]
    rest = [ix[quota(second, c) :] for c, ix in enumerate(per_class)]
    first_ix = rest if first == 0 else [ix[: quota(first, c)] for c, ix in enumerate(rest)]
    if any(len(ix) < quota(first, c) for c, ix in enumerate(rest)) and first:
        raise ValueError(f"a class has fewer than {first // classes} images left for the first set")
    return torch.cat(first_ix).sort().values, torch.cat(second_ix).sort().values


@dataclass(frozen=True)
class Loaders:
    """The three splits of an experiment, as returned by :func:`make_loaders`.

    Attributes
    ----------
    train, test : TensorLoader
    val : TensorLoader or None
        ``None`` when ``val_fraction`` is 0.
    in_channels, num_classes : int
    """

    train: TensorLoader
    val: TensorLoader | None
    test: TensorLoader
    in_channels: int
    num_classes: int


def make_loaders(
    dataset: str,
    *,
    batch_size: int,
    augment: bool,
    train_subset: int = 0,
    val_fraction: float = 0.0,
    test_subset: int = 0,
    device: torch.device | str = "cpu",
    seed: int = 0,
    root: str | os.PathLike | None = None,
    eval_batch_size: int = 500,
    units: str = "standard",
) -> Loaders:
    """Train / validation / test loaders of one data set, as every experiment builds them.

    The validation split is held out of the training split, class-balanced; both
    subsets are class-balanced (:func:`balanced_split`); the normalisation statistics
    are those of the training images actually used (:func:`channel_stats`).

    Parameters
    ----------
    dataset : str
        A name in :data:`~spectral.data.DATASETS`.
    batch_size : int
        Training batch size (evaluation uses ``eval_batch_size``).
    augment : bool
        Random crop + flip on the training split (see :class:`TensorLoader`).
    train_subset : int
        Training images to use; 0 means all that the validation split leaves.
    val_fraction : float
        Fraction of the training split held out for validation, in ``[0, 1)``.
    test_subset : int
        Test images to use (class-balanced); 0 means all.
    device, seed, root
        As in :class:`TensorLoader` and :func:`~spectral.data.load_arrays`.
    eval_batch_size : int
        Batch size of the validation and test loaders.
    units : {"standard", "matconvnet"}
        ``standard``: per-channel mean 0 and standard deviation 1 over the training
        images. ``matconvnet``: pixel values 0–255 minus the per-channel training mean,
        not divided by a standard deviation (the input scale of MatConvNet's examples,
        for which Stamatescu & McDonnell's learning rates were tuned).

    Returns
    -------
    Loaders
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    check_choice("units", units, ("standard", "matconvnet"))
    train_images, train_labels = load_arrays(dataset, train=True, root=root)
    test_images, test_labels = load_arrays(dataset, train=False, root=root)
    n_val = round(val_fraction * len(train_labels))
    train_ix, val_ix = balanced_split(train_labels, first=train_subset, second=n_val)
    if test_subset:
        test_ix, _ = balanced_split(test_labels, first=test_subset)
        test_images, test_labels = test_images[test_ix], test_labels[test_ix]
    mean, std = channel_stats(train_images[train_ix])
    if units == "matconvnet":
        std = torch.full_like(mean, 1 / 255)  # (x/255 - mean) / (1/255) = x - 255·mean

    def loader(images, labels, train):
        return TensorLoader(
            images,
            labels,
            batch_size=batch_size if train else eval_batch_size,
            mean=mean,
            std=std,
            augment=augment and train,
            shuffle=train,
            device=device,
            seed=seed,
        )

    return Loaders(
        train=loader(train_images[train_ix], train_labels[train_ix], True),
        val=loader(train_images[val_ix], train_labels[val_ix], False) if len(val_ix) else None,
        test=loader(test_images, test_labels, False),
        in_channels=train_images.shape[1],
        num_classes=int(train_labels.max()) + 1,
    )
