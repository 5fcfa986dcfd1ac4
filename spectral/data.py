"""Data sets of the papers: MNIST, CIFAR-10, CIFAR-100, as uint8 arrays and tensors.

Where the data come from, in order:

1. torchvision's own files under ``root`` (what ``torchvision.datasets.CIFAR10(root,
   download=True)`` leaves there): read through torchvision. Pass ``download=True`` to
   let torchvision fetch them (needs internet).
2. The offline archives ``cifar10-jpeg.tar.gz`` / ``mnist-png.tar.gz`` (real images,
   see ``data/README.md``) in ``root`` or in ``$SPECTRAL_DATA``: checked against their
   SHA-256, decoded once and cached as uint8 arrays (``.pt``) in the cache folder
   (``cache_dir``, ``$SPECTRAL_CACHE``, or ``data/cache`` in the project).

The training loops use :class:`TensorLoader`: the whole split as one tensor on the
target device and the papers' augmentation (random crop with padding 4, horizontal flip;
SBN paper §IV-A) done batch-wise on tensors, so a GPU epoch is not loader-bound.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from spectral._io import atomic_write, derive_seed
from spectral.corruptions import corrupt  # re-exported: spectral.data.corrupt

__all__ = [
    "DATASETS",
    "ArrayDataset",
    "TensorLoader",
    "balanced_split",
    "channel_stats",
    "corrupt",
    "data_root",
    "get_dataset",
    "load_arrays",
    "make_loaders",
    "sample_images",
]


@dataclass(frozen=True)
class _Spec:
    classes: tuple[str, ...]
    shape: tuple[int, int, int]  # C, H, W
    archive: str | None  # offline archive name, None if there is none
    sha256: str | None
    splits: tuple[str, str] | None  # archive folders of (train, test)
    torchvision_name: str
    sizes: tuple[int, int]  # (train, test) images


_CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

_SPECS = {
    "mnist": _Spec(
        tuple(str(d) for d in range(10)),
        (1, 28, 28),
        "mnist-png.tar.gz",
        "4b4cdeaebf21934a2f3e499134a967d37e198652cc25d17547ff77c20ffab226",
        ("training", "testing"),
        "MNIST",
        (60_000, 10_000),
    ),
    "cifar10": _Spec(
        _CIFAR10_CLASSES,
        (3, 32, 32),
        "cifar10-jpeg.tar.gz",
        "5bbd2193f3b9982b20b3e62de1fcb9691706d5884e1bfe2840596f4c5f9b9bec",
        ("train", "test"),
        "CIFAR10",
        (50_000, 10_000),
    ),
    "cifar100": _Spec(
        tuple(f"class_{i}" for i in range(100)),  # torchvision supplies the names
        (3, 32, 32),
        None,
        None,
        None,
        "CIFAR100",
        (50_000, 10_000),
    ),
}

#: A small generated data set with the shape of CIFAR-10, for tests and smoke runs.
SYNTHETIC = "synthetic"
_SYNTHETIC_SIZES = (640, 200)  # (train, test) images

#: Names accepted by :func:`load_arrays` (all but ``synthetic`` also by :func:`get_dataset`).
DATASETS = (*_SPECS, SYNTHETIC)


def _synthetic_split(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-shaped uint8 images: one smooth random pattern per class plus pixel noise.

    Deterministic (fixed seeds), the same on every machine, learnable in a few epochs;
    the training and test splits draw different noise.
    """
    patterns = torch.randn(10, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    patterns = torch.nn.functional.interpolate(patterns, size=(32, 32), mode="bilinear")
    n = _SYNTHETIC_SIZES[0 if train else 1]
    generator = torch.Generator().manual_seed(1 if train else 2)
    labels = torch.arange(n) % 10
    images = patterns[labels] + 0.8 * torch.randn(n, 3, 32, 32, generator=generator)
    return (images * 40 + 128).clamp(0, 255).to(torch.uint8), labels


def _spec(name: str) -> _Spec:
    if name not in _SPECS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    return _SPECS[name]


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


def _cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("SPECTRAL_CACHE"):
        return Path(os.environ["SPECTRAL_CACHE"]).expanduser()
    project = Path(__file__).resolve().parent.parent
    if (project / "pyproject.toml").is_file():  # an editable install inside the project
        return project / "data" / "cache"
    return Path.home() / ".cache" / "spectral-cnn"


_VERIFIED: dict[tuple, str] = {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(archive: Path, spec: _Spec) -> Path:
    stat = archive.stat()
    key = (str(archive.resolve()), stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(key) == spec.sha256:  # hashed before in this process, file unchanged
        return archive
    actual = _sha256(archive)
    if actual != spec.sha256:
        raise ValueError(
            f"{archive} has SHA-256 {actual}, expected {spec.sha256}: the file is corrupt "
            "or a different version; replace it with the original archive"
        )
    _VERIFIED[key] = actual
    return archive


def _archive_images(archive: Path, folder: str, limit_per_class: int | None = None) -> Iterator:
    """Yield ``(class_name, member_name, PIL image)`` for the images under ``folder/``."""
    from PIL import Image

    taken: dict[str, int] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] != folder:
                continue
            label = parts[-2]
            if limit_per_class is not None:
                if taken.get(label, 0) >= limit_per_class:
                    continue
                taken[label] = taken.get(label, 0) + 1
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as image:
                image.load()
                yield label, parts[-1], image


def _to_chw_uint8(image, channels: int) -> torch.Tensor:
    converted = image.convert("RGB" if channels == 3 else "L")
    pixels = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
    return pixels.view(converted.height, converted.width, channels).permute(2, 0, 1)


def _natural_key(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def _decode_archive(archive: Path, spec: _Spec, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from tqdm import tqdm

    folder = spec.splits[0 if train else 1]
    index = {c: i for i, c in enumerate(spec.classes)}
    records = []
    total = spec.sizes[0 if train else 1]
    desc = f"decoding {archive.name}:{folder}"
    for label, member, image in tqdm(_archive_images(archive, folder), total=total, desc=desc):
        records.append((index[label], _natural_key(member), _to_chw_uint8(image, spec.shape[0])))
    records.sort(key=lambda r: (r[0], r[1]))  # deterministic order, independent of the tar
    images = torch.stack([r[2] for r in records])
    labels = torch.tensor([r[0] for r in records], dtype=torch.int64)
    return images, labels


def _from_torchvision(
    name: str, spec: _Spec, root: Path, train: bool, download: bool
) -> tuple[torch.Tensor, torch.Tensor] | None:
    import torchvision

    cls = getattr(torchvision.datasets, spec.torchvision_name)
    try:
        ds = cls(str(root), train=train, download=download)
    except RuntimeError:  # torchvision: "Dataset not found or corrupted"
        return None
    data = torch.as_tensor(ds.data)
    images = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return images.contiguous().to(torch.uint8), labels


def _missing_message(name: str, spec: _Spec, folder: Path | None) -> str:
    where = f"in {folder}" if folder is not None else "(no root given and $SPECTRAL_DATA unset)"
    how = (
        f"put the offline archive {spec.archive} in a folder and pass root=<folder> or set "
        f"SPECTRAL_DATA=<folder>, or "
        if spec.archive
        else ""
    )
    return (
        f"{name} not found {where}. To get it: {how}call "
        f"get_dataset({name!r}, train=..., root=<folder>, download=True) on a machine with "
        f"internet, which stores torchvision's {spec.torchvision_name} files under <folder>."
    )


def load_arrays(
    name: str,
    *,
    train: bool,
    root: str | os.PathLike | None = None,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole split as uint8 images and int64 labels.

    Parameters
    ----------
    name : {"mnist", "cifar10", "cifar100", "synthetic"}
    train : bool
        Training split (MNIST 60,000, CIFAR 50,000 images) or test split (10,000);
        ``synthetic`` (generated, no files): 640 and 200 images of CIFAR-10's shape.
    root : path, optional
        Folder with torchvision's files or the offline archives; default ``$SPECTRAL_DATA``.
    download : bool
        Let torchvision download into ``root`` (needs internet).
    cache_dir : path, optional
        Where decoded archives are cached (default ``$SPECTRAL_CACHE`` or ``data/cache``).

    Returns
    -------
    images : Tensor, shape ``(N, C, H, W)``, uint8
    labels : Tensor, shape ``(N,)``, int64

    Raises
    ------
    ValueError
        Unknown ``name``; an archive whose SHA-256 does not match.
    FileNotFoundError
        The data are nowhere to be found; the message says how to get them.
    """
    if name == SYNTHETIC:
        return _synthetic_split(train)
    spec = _spec(name)
    folder = data_root(root)
    if download and folder is None:
        raise ValueError("download=True needs root=<folder> to download into")
    if folder is not None:
        found = _from_torchvision(name, spec, folder, train, download)
        if found is not None:
            return found
    archive = folder / spec.archive if folder is not None and spec.archive else None
    if archive is None or not archive.is_file():
        raise FileNotFoundError(_missing_message(name, spec, folder))
    split = "train" if train else "test"
    cached = _cache_dir(cache_dir) / f"{name}-{split}-{spec.sha256[:12]}.pt"
    if cached.is_file():
        payload = torch.load(cached, weights_only=True)
        return payload["images"], payload["labels"]
    images, labels = _decode_archive(_verified(archive, spec), spec, train)
    payload = {"images": images, "labels": labels}
    atomic_write(cached, lambda f: torch.save(payload, f))  # never a half-written cache
    return images, labels


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
    """A ``torch.utils.data.Dataset`` of ``(image, label)`` for MNIST/CIFAR-10/CIFAR-100.

    Images are float32 ``(C, H, W)`` in [0, 1] (then ``transform``); labels ints. See
    :func:`load_arrays` for where the data come from and the errors.
    """
    images, labels = load_arrays(name, train=train, root=root, download=download)
    return ArrayDataset(images, labels, _spec(name).classes, transform)


class TensorLoader:
    """Batches from a whole split held as one tensor on a device, augmented batch-wise.

    Parameters
    ----------
    images : Tensor, shape ``(N, C, H, W)``, uint8
    labels : Tensor, shape ``(N,)``, int64
    batch_size : int
    mean, std : Tensor, shape ``(C,)``
        Per-channel normalisation (in [0, 1] units), e.g. from :func:`channel_stats` of
        the training split.
    augment : bool
        Random crop (zero padding ``pad``, then a crop of the original size) and random
        horizontal flip, drawn per image (SBN paper §IV-A). ``False`` is Rippel et al.'s
        "no augmentation" and the test-time setting.
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
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        c = images.shape[1]
        self.mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32, device=self.device).view(1, c, 1, 1)
        self.batch_size, self.augment, self.pad = batch_size, augment, pad
        self.shuffle, self.drop_last, self.seed = shuffle, drop_last, seed
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
        A name in :data:`DATASETS`.
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
        As in :class:`TensorLoader` and :func:`load_arrays`.
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
    if units not in ("standard", "matconvnet"):
        raise ValueError(f"units must be 'standard' or 'matconvnet', got {units!r}")
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


def _synthetic_samples(n: int, size: int = 32) -> tuple[torch.Tensor, list[str]]:
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
    spec = _SPECS["cifar10"]
    folder = data_root(root)
    archive = folder / spec.archive if folder is not None else None
    if archive is None or not archive.is_file():
        images, labels = _synthetic_samples(n)
        return images, labels, "synthetic"
    images, labels = [], []
    for label, _, image in _archive_images(_verified(archive, spec), "train", limit_per_class=1):
        images.append(_to_chw_uint8(image, 3))
        labels.append(label)
        if len(labels) == n:
            break
    return torch.stack(images).to(torch.float64) / 255.0, labels, "CIFAR-10 offline archive"
