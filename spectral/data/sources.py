"""Where a split comes from: generated, torchvision's files, or an offline archive.

In this order, for :func:`load_arrays`:

1. ``synthetic``: generated (:mod:`spectral.data.synthetic`), no files.
2. torchvision's own files under ``root`` (what ``torchvision.datasets.CIFAR10(root,
   download=True)`` leaves there), read through torchvision; ``download=True`` lets
   torchvision fetch them (needs internet). A folder of such files that torchvision
   cannot read is skipped with a warning where an offline archive can stand in.
3. The offline archive ``cifar10-jpeg.tar.gz`` / ``mnist-png.tar.gz`` (see
   ``data/README.md``) in ``root`` or ``$SPECTRAL_DATA``: checked against its SHA-256,
   decoded once and cached (:mod:`spectral.data.cache`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from spectral.data import cache
from spectral.data.archive import decode_split
from spectral.data.specs import SYNTHETIC, Spec, data_root, spec
from spectral.data.synthetic import synthetic_split

__all__ = ["available", "load_arrays"]


def available(name: str, root: str | os.PathLike | None = None) -> bool:
    """Whether :func:`load_arrays` finds ``name`` without downloading.

    Looks for the files only (torchvision's folder or the offline archive in
    :func:`~spectral.data.data_root`), without reading them; ``synthetic`` is always
    available.
    """
    if name == SYNTHETIC:
        return True
    found = spec(name)
    folder = data_root(root)
    if folder is None:
        return False
    archive = found.archive is not None and (folder / found.archive).is_file()
    return archive or (folder / found.torchvision_folder).is_dir()


def _from_torchvision(
    found: Spec, root: Path, train: bool, download: bool
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The split from torchvision's files under ``root``; ``None`` if there are none.

    Raises
    ------
    ValueError
        The files are there (or were to be downloaded) but torchvision failed.
    """
    if not download and not (root / found.torchvision_folder).exists():
        return None
    import torchvision

    cls = getattr(torchvision.datasets, found.torchvision_name)
    try:
        ds = cls(str(root), train=train, download=download)
    except Exception as error:  # torchvision raises RuntimeError, ValueError, OSError, ...
        action = "download" if download else "read"
        raise ValueError(
            f"torchvision could not {action} {found.torchvision_name} in "
            f"{root / found.torchvision_folder} ({type(error).__name__}: {error}); delete "
            "that folder and download it again (download=True, needs internet)"
            + (f", or use the offline archive {found.archive}" if found.archive else "")
        ) from error
    data = torch.as_tensor(ds.data)
    images = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return images.contiguous().to(torch.uint8), labels


def _missing_message(name: str, found: Spec, folder: Path | None) -> str:
    where = f"in {folder}" if folder is not None else "(no root given and $SPECTRAL_DATA unset)"
    how = (
        f"put the offline archive {found.archive} in a folder and pass root=<folder> or set "
        f"SPECTRAL_DATA=<folder>, or "
        if found.archive
        else ""
    )
    return (
        f"{name} not found {where}. To get it: {how}call "
        f"get_dataset({name!r}, train=..., root=<folder>, download=True) on a machine with "
        f"internet, which stores torchvision's {found.torchvision_name} files under <folder>."
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
        Where decoded archives are cached (default ``$SPECTRAL_CACHE``, else ``data/cache``
        in the project; see :mod:`spectral.data.cache`).

    Returns
    -------
    images : Tensor, shape ``(N, C, H, W)``, uint8
    labels : Tensor, shape ``(N,)``, int64

    Raises
    ------
    ValueError
        Unknown ``name``; an archive whose SHA-256 does not match; torchvision's files
        that torchvision cannot read, with no offline archive to use instead.
    FileNotFoundError
        The data are nowhere to be found; the message says how to get them.

    Warns
    -----
    UserWarning
        A cache file that fails its checks (it is replaced); a cache that cannot be
        written (the split is kept in memory); unreadable torchvision files skipped for
        the offline archive.
    """
    if name == SYNTHETIC:
        return synthetic_split(train)
    found = spec(name)
    folder = data_root(root)
    if download and folder is None:
        raise ValueError("download=True needs root=<folder> to download into")
    archive = folder / found.archive if folder is not None and found.archive else None
    if archive is not None and not archive.is_file():
        archive = None
    if folder is not None:
        try:
            arrays = _from_torchvision(found, folder, train, download)
        except ValueError as error:
            if archive is None:
                raise
            warnings.warn(f"{error}; using {archive} instead", stacklevel=2)
            arrays = None
        if arrays is not None:
            return arrays
    if archive is None:
        raise FileNotFoundError(_missing_message(name, found, folder))
    path = cache.cache_path(name, found, train, cache_dir)
    arrays = cache.read(path, found, train)
    if arrays is None:
        arrays = decode_split(archive, found, train)
        cache.write(path, *arrays)
    return arrays
