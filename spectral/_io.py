"""Small shared helpers: crash-safe file writes and derived random seeds.

Every file the package writes for later reuse (decoded data cache, training
checkpoints, result records) goes through :func:`atomic_write`, so a killed process
leaves either the old file or the new one, never a half-written one, and no temp file.
Every random stream that is a function of a run's seed and something else (an epoch,
a corruption kind and severity) comes from :func:`derive_seed`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "derive_seed"]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object] | bytes) -> Path:
    """Write ``path`` atomically and durably: temp file, flush, fsync, rename, fsync dir.

    Parameters
    ----------
    path : path
        The destination; its folder is created if missing.
    write : bytes or callable
        The content, or a function ``write(fileobj)`` that writes it (e.g.
        ``lambda f: torch.save(state, f)``).

    Returns
    -------
    Path
        ``path``. On any error the temp file is removed and the error re-raised; the
        destination is then unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(partial, "wb") as f:
            if isinstance(write, bytes | bytearray):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not every file system allows opening a folder
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
    return path


def derive_seed(seed: int, *parts: int | str) -> int:
    """A 63-bit seed determined by ``seed`` and ``parts`` (ints or strings), order-sensitive.

    Distinct inputs give independent-looking seeds (a BLAKE2b hash), unlike sums such
    as ``seed * 1_000_003 + epoch`` that collide across streams. Use it for every
    stream derived from a run's seed: ``derive_seed(seed, "augment", epoch)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, int | str):
            raise TypeError(f"seed parts must be ints or strings, got {part!r}")
    text = "\x1f".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1
