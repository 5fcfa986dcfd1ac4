"""A ``torch.utils.data.Dataset`` view of a split, for per-image (torchvision) pipelines."""

from __future__ import annotations

import os

import torch
from torch.utils.data import Dataset

from spectral.data.sources import load_arrays
from spectral.data.specs import SYNTHETIC, spec
from spectral.data.synthetic import CLASSES

__all__ = ["ArrayDataset", "get_dataset"]


class ArrayDataset(Dataset):
    """``(image, label)`` pairs from uint8 arrays: images as float32 in [0, 1], ``(C, H, W)``.

    ``transform`` (optional) is applied to each float image tensor, e.g. torchvision's
    ``transforms.v2`` for per-image augmentation.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes, transform=None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.classes, self.transform = images, labels, classes, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        image = self.images[i].float().div_(255)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])


def get_dataset(
    name: str,
    *,
    train: bool,
    root: str | os.PathLike | None = None,
    transform=None,
    download: bool = False,
) -> ArrayDataset:
    """A ``torch.utils.data.Dataset`` of ``(image, label)`` for a name in ``DATASETS``.

    Images are float32 ``(C, H, W)`` in [0, 1] (then ``transform``); labels ints. See
    :func:`~spectral.data.load_arrays` for where the data come from and the errors.
    """
    images, labels = load_arrays(name, train=train, root=root, download=download)
    classes = CLASSES if name == SYNTHETIC else spec(name).classes
    return ArrayDataset(images, labels, classes, transform)
