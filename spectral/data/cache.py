"""The decoded-data cache: a split decoded once, kept as uint8 arrays in a ``.pt`` file.

Nothing read from the cache is trusted: :func:`read` checks the file's count, shapes,
dtypes and label range against the data set and its SHA-256 of the arrays against the
one stored with them, and answers ``None`` (with a warning naming the file and the
problem) for a file that fails any check, so that the caller decodes the archive again
and :func:`write` replaces the file. Where the cache cannot be written (a read-only or
missing folder), :func:`write` warns and keeps the arrays in memory for the rest of the
process instead. Temp files left by a writer that was killed (``SIGKILL``, power loss:
:func:`spectral._io.atomic_write` removes its temp file on any error it sees) are
removed the next time the cache is read.

The folder is ``cache_dir`` if given, else ``$SPECTRAL_CACHE``, else ``data/cache`` in
the project (:func:`spectral._project.project_root`), else ``~/.cache/spectral-cnn``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import torch

from spectral._io import atomic_write
from spectral._project import project_root
from spectral.data.specs import Spec

__all__ = ["cache_path", "read", "write"]

_KEYS = {"images", "labels", "sha256"}
_MEMORY: dict[Path, tuple[torch.Tensor, torch.Tensor]] = {}


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("SPECTRAL_CACHE"):
        return Path(os.environ["SPECTRAL_CACHE"]).expanduser()
    project = project_root()
    if project is not None:
        return project / "data" / "cache"
    return Path.home() / ".cache" / "spectral-cnn"


def cache_path(name: str, spec: Spec, train: bool, cache_dir: str | os.PathLike | None) -> Path:
    """The cache file of one split of one archive (named by the archive's SHA-256)."""
    split = "train" if train else "test"
    return _cache_folder(cache_dir) / f"{name}-{split}-{spec.sha256[:12]}.pt"


def _checksum(images: torch.Tensor, labels: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for array in (images, labels):
        digest.update(array.contiguous().numpy())
    return digest.hexdigest()


def _problem(payload, spec: Spec, train: bool) -> str | None:
    """What is wrong with a loaded cache payload, or ``None`` if it is the split."""
    if not isinstance(payload, dict) or not _KEYS <= payload.keys():
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        return f"it holds {keys}, not {sorted(_KEYS)} (an older version's cache or another file)"
    images, labels = payload["images"], payload["labels"]
    expected = (spec.size(train), *spec.shape)
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        return f"its images are {getattr(images, 'dtype', type(images).__name__)}, not uint8"
    if tuple(images.shape) != expected:
        return f"its images have shape {tuple(images.shape)}, expected {expected}"
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64:
        return f"its labels are {getattr(labels, 'dtype', type(labels).__name__)}, not int64"
    if tuple(labels.shape) != expected[:1]:
        return f"its labels have shape {tuple(labels.shape)}, expected {expected[:1]}"
    if not 0 <= int(labels.min()) <= int(labels.max()) < len(spec.classes):
        return f"its labels leave the range 0..{len(spec.classes) - 1}"
    if payload["sha256"] != _checksum(images, labels):
        return "its arrays do not match the SHA-256 stored with them"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_stale_temp_files(path: Path) -> None:
    """Remove the temp files of ``atomic_write(path, ...)`` whose writer is dead."""
    if not path.parent.is_dir():
        return
    for partial in path.parent.glob(f".{path.name}.tmp*"):
        pid = partial.name.rpartition(".tmp")[2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            partial.unlink(missing_ok=True)


def read(path: Path, spec: Spec, train: bool) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The cached split, or ``None`` where there is no usable cache (warning for a bad one).

    Parameters
    ----------
    path : Path
        From :func:`cache_path`.
    spec : Spec
        The data set, whose count, shape and classes the file must match.
    train : bool
        The split.

    Returns
    -------
    (Tensor, Tensor) or None
        uint8 images ``(N, C, H, W)`` and int64 labels ``(N,)``, checked; ``None`` when
        the file is missing or fails a check.
    """
    if path in _MEMORY:
        images, labels = _MEMORY[path]
        return images.clone(), labels.clone()
    _remove_stale_temp_files(path)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as error:  # torch.load fails in many ways on a damaged file
        problem = f"it cannot be read ({type(error).__name__}: {error})"
    else:
        problem = _problem(payload, spec, train)
    if problem is None:
        return payload["images"], payload["labels"]
    warnings.warn(
        f"ignoring the decoded-data cache {path}: {problem}; decoding the archive again",
        stacklevel=3,
    )
    return None


def write(path: Path, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Cache a decoded split in ``path``; in memory (with a warning) where that fails.

    The file is written atomically (:func:`spectral._io.atomic_write`), with the SHA-256
    of the arrays that :func:`read` checks.
    """
    payload = {"images": images, "labels": labels, "sha256": _checksum(images, labels)}
    try:
        atomic_write(path, lambda f: torch.save(payload, f))
    except (OSError, RuntimeError) as error:  # RuntimeError: torch's own writer
        _MEMORY[path] = (images.clone(), labels.clone())
        warnings.warn(
            f"cannot write the decoded-data cache {path} ({type(error).__name__}: {error}); "
            "keeping the decoded split in memory for this process only, so the next "
            "process decodes it again: set $SPECTRAL_CACHE (or pass cache_dir=) to a "
            "writable folder",
            stacklevel=3,
        )
