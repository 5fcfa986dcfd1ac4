"""The data sets: their classes, shapes, sizes and files, and the folder to look in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATASETS", "SPECS", "SYNTHETIC", "Spec", "data_root", "spec"]


@dataclass(frozen=True)
class Spec:
    """What is known of one data set before reading it.

    Attributes
    ----------
    classes : tuple of str
    shape : (int, int, int)
        ``(C, H, W)`` of one image.
    archive, sha256 : str or None
        The offline archive's file name and SHA-256 (``None``: there is no archive).
    splits : (str, str) or None
        The archive's folders of the training and the test split.
    torchvision_name : str
        The class in ``torchvision.datasets``.
    torchvision_folder : str
        The folder that torchvision's class keeps its files in, under ``root``.
    sizes : (int, int)
        Images in the training and the test split.
    """

    classes: tuple[str, ...]
    shape: tuple[int, int, int]
    archive: str | None
    sha256: str | None
    splits: tuple[str, str] | None
    torchvision_name: str
    torchvision_folder: str
    sizes: tuple[int, int]

    def size(self, train: bool) -> int:
        """Images in the training (``train=True``) or the test split."""
        return self.sizes[0 if train else 1]


_CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

#: The data sets read from files, by name.
SPECS = {
    "mnist": Spec(
        tuple(str(d) for d in range(10)),
        (1, 28, 28),
        "mnist-png.tar.gz",
        "4b4cdeaebf21934a2f3e499134a967d37e198652cc25d17547ff77c20ffab226",
        ("training", "testing"),
        "MNIST",
        "MNIST",
        (60_000, 10_000),
    ),
    "cifar10": Spec(
        _CIFAR10_CLASSES,
        (3, 32, 32),
        "cifar10-jpeg.tar.gz",
        "5bbd2193f3b9982b20b3e62de1fcb9691706d5884e1bfe2840596f4c5f9b9bec",
        ("train", "test"),
        "CIFAR10",
        "cifar-10-batches-py",
        (50_000, 10_000),
    ),
    "cifar100": Spec(
        tuple(f"class_{i}" for i in range(100)),  # torchvision supplies the names
        (3, 32, 32),
        None,
        None,
        None,
        "CIFAR100",
        "cifar-100-python",
        (50_000, 10_000),
    ),
}

#: A small generated data set with the shape of CIFAR-10, for tests and smoke runs.
SYNTHETIC = "synthetic"

#: Names accepted by :func:`~spectral.data.load_arrays` (all but ``synthetic`` also by
#: :func:`~spectral.data.get_dataset`).
DATASETS = (*SPECS, SYNTHETIC)


def spec(name: str) -> Spec:
    """The :class:`Spec` of a data set read from files; ``ValueError`` for other names."""
    if name not in SPECS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    return SPECS[name]


def data_root(root: str | os.PathLike | None = None) -> Path | None:
    """The folder holding the data: ``root``, else ``$SPECTRAL_DATA``, else ``None``.

    A given folder that does not exist raises ``FileNotFoundError``.
    """
    chosen = root if root is not None else os.environ.get("SPECTRAL_DATA") or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        source = "root" if root is not None else "$SPECTRAL_DATA"
        raise FileNotFoundError(f"{source} points to {path}, which is not a folder")
    return path
