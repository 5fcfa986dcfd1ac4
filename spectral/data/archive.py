"""The offline archives (``cifar10-jpeg.tar.gz``, ``mnist-png.tar.gz``): checked, decoded.

An archive holds one image file per image, ``<anything>/<split folder>/<class>/<name>``;
:func:`decode_split` checks it against its SHA-256 and decodes a whole split into uint8
arrays in a fixed order (by class, then by the natural order of the file names), so the
result does not depend on the order of the members in the tar file.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import torch

from spectral.data.specs import Spec

__all__ = ["archive_images", "decode_split", "to_chw_uint8", "verified"]

_VERIFIED: dict[tuple, str] = {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(archive: Path, spec: Spec) -> Path:
    """``archive`` if its SHA-256 is the spec's (hashed once per process and file state).

    Raises
    ------
    ValueError
        A different SHA-256: a corrupt file or another version.
    """
    stat = archive.stat()
    key = (str(archive.resolve()), stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(key) == spec.sha256:
        return archive
    actual = _sha256(archive)
    if actual != spec.sha256:
        raise ValueError(
            f"{archive} has SHA-256 {actual}, expected {spec.sha256}: the file is corrupt "
            "or a different version; replace it with the original archive"
        )
    _VERIFIED[key] = actual
    return archive


def archive_images(archive: Path, folder: str, limit_per_class: int | None = None) -> Iterator:
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


def to_chw_uint8(image, channels: int) -> torch.Tensor:
    """A PIL image as a uint8 ``(channels, H, W)`` tensor (converted to RGB or grey)."""
    converted = image.convert("RGB" if channels == 3 else "L")
    pixels = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
    return pixels.view(converted.height, converted.width, channels).permute(2, 0, 1)


def _natural_key(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def decode_split(archive: Path, spec: Spec, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split of a verified archive as uint8 images and int64 labels.

    Parameters
    ----------
    archive : Path
        The archive, checked against ``spec.sha256`` here (see :func:`verified`).
    spec : Spec
    train : bool
        The training or the test split.

    Returns
    -------
    images : Tensor, shape ``(N, C, H, W)``, uint8
    labels : Tensor, shape ``(N,)``, int64
    """
    from tqdm import tqdm

    folder = spec.splits[0 if train else 1]
    index = {c: i for i, c in enumerate(spec.classes)}
    images = archive_images(verified(archive, spec), folder)
    desc = f"decoding {archive.name}:{folder}"
    records = [
        (index[label], _natural_key(member), to_chw_uint8(image, spec.shape[0]))
        for label, member, image in tqdm(images, total=spec.size(train), desc=desc)
    ]
    records.sort(key=lambda r: (r[0], r[1]))
    return (
        torch.stack([r[2] for r in records]),
        torch.tensor([r[0] for r in records], dtype=torch.int64),
    )
